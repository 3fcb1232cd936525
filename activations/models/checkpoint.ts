/**
 * A checkpoint folder in the Hugging Face layout: config.json, model.safetensors (or shards listed by
 * model.safetensors.index.json, or pytorch_model.bin and its shards), tokenizer.json. Reading goes tensor by tensor; writing goes through
 * lab/core/run-dir.ts so a killed save leaves the old files or the new ones.
 */
import { totalmem } from 'node:os';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../lab/core/index.ts';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../lab/core/index.ts';
import { checkHalfPlausible, checkUnusedTensors } from './config-checks.ts';
import type { Hash } from 'node:crypto';
import { SafetensorsFile, encodeSafetensors, sha256, type SafetensorsDtype, type TensorToWrite } from './safetensors.ts';

export type { TensorToWrite } from './safetensors.ts';

/** What CheckpointReader reads tensors from: a safetensors file or a pytorch_model.bin (torch-bin.ts). */
export interface TensorFile {
  readonly path: string;
  readonly tensors: Map<string, { name: string; dtype: SafetensorsDtype; shape: number[] }>;
  /** Bytes that describe the tensors (the safetensors header, the .bin's pickle), folded into the checksum. */
  readonly headerBytes: Buffer;
  readF32(name: string, hash?: Hash): Float32Array;
  close(): void;
}

/** One tensor's location across a possibly sharded checkpoint. */
interface Located {
  file: TensorFile;
  info: { name: string; dtype: SafetensorsDtype; shape: number[] };
}

/** The share of the machine's memory a checkpoint's float32 weights may take. */
const MEMORY_SHARE = 0.75;

/** A shard index's weight_map, its shard files checked to be file names of `dir` (a path could read anything). */
function readShardIndex(indexPath: string, dir: string): { weightMap: Record<string, string>; shards: string[] } {
  const idx = readJson<{ weight_map?: Record<string, string> }>(indexPath);
  if (!idx || typeof idx.weight_map !== 'object' || idx.weight_map === null) {
    throw new InputError(`${indexPath} has no "weight_map"`, indexPath);
  }
  const shards = [...new Set(Object.values(idx.weight_map))].sort();
  for (const s of shards) {
    if (typeof s !== 'string' || !/^[^/\\]+$/.test(s) || s === '.' || s === '..') {
      throw new InputError(`${indexPath}: shard ${JSON.stringify(s)} is not a file name in ${dir} (weight_map entries must name files of the model folder)`, indexPath);
    }
  }
  return { weightMap: idx.weight_map, shards };
}

/**
 * Opened weight files of one checkpoint folder: model.safetensors, safetensors shards
 * (model.safetensors.index.json), or, when there is no safetensors, pytorch_model.bin or its shards
 * (pytorch_model.bin.index.json; open those with the async CheckpointReader.open). `read` hands out
 * tensors one at a time as f32 and folds their bytes into a running sha256, the weights' checksum.
 */
export class CheckpointReader {
  private readonly files: TensorFile[];
  private readonly index = new Map<string, Located>();
  private readonly hash = sha256();
  /** Names handed out by read(), so a loader can tell which tensors its config never used. */
  readonly readNames = new Set<string>();

  /** Opens a folder's safetensors (synchronously); a folder with only pytorch_model.bin needs CheckpointReader.open. */
  constructor(readonly dir: string, opened?: { files: TensorFile[]; shards?: string[]; weightMap?: Record<string, string>; indexPath?: string }) {
    const single = join(dir, 'model.safetensors');
    const indexPath = join(dir, 'model.safetensors.index.json');
    if (opened) {
      this.files = opened.files;
      if (opened.weightMap) this.mapShards(opened.weightMap, opened.shards!, opened.indexPath!);
      else for (const [name, info] of this.files[0]!.tensors) this.index.set(name, { file: this.files[0]!, info });
    } else if (existsSync(indexPath)) {
      const { weightMap, shards } = readShardIndex(indexPath, dir);
      this.files = shards.map((s) => SafetensorsFile.open(join(dir, s)));
      this.mapShards(weightMap, shards, indexPath);
    } else if (existsSync(single)) {
      this.files = [SafetensorsFile.open(single)];
      for (const [name, info] of this.files[0]!.tensors) this.index.set(name, { file: this.files[0]!, info });
    } else if (existsSync(join(dir, 'pytorch_model.bin')) || existsSync(join(dir, 'pytorch_model.bin.index.json'))) {
      throw new InputError(`${dir} holds only pytorch_model.bin weights, which this caller cannot read (it reads safetensors synchronously; loadModel reads both): convert the weights to model.safetensors`, join(dir, 'pytorch_model.bin'));
    } else {
      throw new InputError(`${dir} holds no weights: expected ${single}, ${indexPath}, or pytorch_model.bin (or its .index.json)`, single);
    }
    for (const f of this.files) this.hash.update(f.headerBytes);
    // Before any tensor is allocated: a (sparse) file claiming more float32 weights than this machine
    // holds would otherwise end in an abort or a raw RangeError deep in the backend.
    let f32Bytes = 0;
    for (const { info } of this.index.values()) f32Bytes += info.shape.reduce((a, d) => a * d, 1) * 4;
    const limit = Math.floor(totalmem() * MEMORY_SHARE);
    if (f32Bytes > limit) {
      this.close();
      throw new InputError(`${this.describe()} holds ${(f32Bytes / 2 ** 30).toFixed(1)} GiB of weights as float32, more than the ${(limit / 2 ** 30).toFixed(1)} GiB (${MEMORY_SHARE * 100}% of this machine's memory) the lab will load`, this.files[0]?.path);
    }
  }

  /**
   * Any checkpoint folder: safetensors first (as transformers prefers them), else pytorch_model.bin or
   * its shards, read without executing the pickle (torch-bin.ts).
   */
  static async open(dir: string): Promise<CheckpointReader> {
    if (existsSync(join(dir, 'model.safetensors')) || existsSync(join(dir, 'model.safetensors.index.json'))) return new CheckpointReader(dir);
    const binIndex = join(dir, 'pytorch_model.bin.index.json');
    const { TorchBinFile } = await import('./torch-bin.ts');
    const files: TensorFile[] = [];
    try {
      if (existsSync(binIndex)) {
        const { weightMap, shards } = readShardIndex(binIndex, dir);
        for (const s of shards) files.push(await TorchBinFile.open(join(dir, s)));
        return new CheckpointReader(dir, { files, shards, weightMap, indexPath: binIndex });
      }
      if (existsSync(join(dir, 'pytorch_model.bin'))) {
        files.push(await TorchBinFile.open(join(dir, 'pytorch_model.bin')));
        return new CheckpointReader(dir, { files });
      }
    } catch (err) {
      for (const f of files) f.close();
      throw err;
    }
    return new CheckpointReader(dir); // the "holds no weights" error
  }

  private mapShards(weightMap: Record<string, string>, shards: string[], indexPath: string): void {
    for (const [name, shard] of Object.entries(weightMap)) {
      const file = this.files[shards.indexOf(shard)]!;
      const info = file.tensors.get(name);
      if (!info) {
        this.close();
        throw new InputError(`${indexPath} places tensor '${name}' in ${shard}, but ${file.path} does not hold it`, file.path);
      }
      this.index.set(name, { file, info });
    }
  }

  names(): string[] {
    return [...this.index.keys()];
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  locate(name: string): Located | undefined {
    return this.index.get(name);
  }

  /** Reads one tensor as f32, checking its shape (and dtype when `dtype` is given) against what the config implies. */
  read(name: string, shape: number[], dtype?: string): Float32Array {
    const loc = this.index.get(name);
    if (!loc) throw new InputError(`${this.describe()}: tensor '${name}' is missing (config.json implies it)`, this.files[0]?.path);
    const { file, info } = loc;
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new InputError(
        `${file.path}: tensor '${name}' has shape [${info.shape}] but config.json implies [${shape}]`,
        file.path,
      );
    }
    if (dtype !== undefined && info.dtype !== dtype) {
      throw new InputError(`${file.path}: tensor '${name}' is ${info.dtype} but config.json says torch_dtype ${dtypeName(dtype)}`, file.path);
    }
    this.readNames.add(name);
    const data = file.readF32(name, this.hash);
    // A 2-byte dtype config.json does not corroborate: check it is not F16/BF16 swapped (issue 19).
    if (dtype === undefined) checkHalfPlausible(name, info.dtype, info.shape, data, file.path);
    return data;
  }

  /** Refuses tensors that no read() asked for (checkUnusedTensors); call after loading every weight. */
  checkAllUsed(tiedHead: boolean): void {
    checkUnusedTensors(this.names(), this.readNames, this.describe(), tiedHead);
  }

  /** sha256 over the headers and every tensor read so far, in read order. */
  checksum(): string {
    return this.hash.copy().digest('hex');
  }

  close(): void {
    for (const f of this.files) f.close();
  }

  private describe(): string {
    return this.files.length === 1 ? this.files[0]!.path : `${this.dir} (${this.files.length} shards)`;
  }
}

const TORCH_DTYPES: Record<string, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' };

function dtypeName(st: string): string {
  return Object.entries(TORCH_DTYPES).find(([, v]) => v === st)?.[0] ?? st;
}

export function readConfigJson(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new InputError(`${dir} is not a model folder: ${path} is missing`, path);
  const cfg = readJson<Record<string, unknown>>(path);
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw new InputError(`${path} is not a JSON object`, path);
  return cfg;
}

export interface CheckpointToWrite {
  /** The Hugging Face config.json object. */
  config: Record<string, unknown>;
  tensors: Map<string, TensorToWrite>;
  /** tokenizer.json object; omitted means no tokenizer.json is written. */
  tokenizerJson?: unknown;
}

/**
 * Writes config.json, model.safetensors and tokenizer.json into `dir`, each atomically. The weights go
 * first and config.json last, so a folder with a config.json never pairs it with older weights.
 */
export function writeCheckpoint(dir: string, ckpt: CheckpointToWrite): void {
  const dtypes = new Set([...ckpt.tensors.values()].map((t) => t.dtype));
  const config = { ...ckpt.config };
  if (dtypes.size === 1) config.torch_dtype = dtypes.has('f16') ? 'float16' : 'float32';
  else delete config.torch_dtype;
  writeFileAtomic(join(dir, 'model.safetensors'), encodeSafetensors(ckpt.tensors, { format: 'pt' }));
  // A shard index left from an earlier save would win over the new single file when reading.
  rmSync(join(dir, 'model.safetensors.index.json'), { force: true });
  if (ckpt.tokenizerJson !== undefined) writeJsonAtomic(join(dir, 'tokenizer.json'), ckpt.tokenizerJson);
  writeJsonAtomic(join(dir, 'config.json'), config);
}

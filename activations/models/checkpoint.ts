/**
 * A checkpoint folder in the Hugging Face layout: config.json, model.safetensors (or shards listed by
 * model.safetensors.index.json), tokenizer.json. Reading goes tensor by tensor; writing goes through
 * lab/core/run-dir.ts so a killed save leaves the old files or the new ones.
 */
import { totalmem } from 'node:os';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../lab/core/index.ts';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../lab/core/index.ts';
import { checkUnusedTensors } from './config-checks.ts';
import { SafetensorsFile, encodeSafetensors, sha256, type TensorInfo, type TensorToWrite } from './safetensors.ts';

export type { TensorToWrite } from './safetensors.ts';

/** One tensor's location across a possibly sharded checkpoint. */
interface Located {
  file: SafetensorsFile;
  info: TensorInfo;
}

/** The share of the machine's memory a checkpoint's float32 weights may take. */
const MEMORY_SHARE = 0.75;

/**
 * Opened safetensors of one checkpoint folder. `read` hands out tensors one at a time as f32 and
 * folds their bytes into a running sha256, the weights' checksum.
 */
export class CheckpointReader {
  private readonly files: SafetensorsFile[];
  private readonly index = new Map<string, Located>();
  private readonly hash = sha256();
  /** Names handed out by read(), so a loader can tell which tensors its config never used. */
  readonly readNames = new Set<string>();

  constructor(readonly dir: string) {
    const single = join(dir, 'model.safetensors');
    const indexPath = join(dir, 'model.safetensors.index.json');
    if (existsSync(indexPath)) {
      const idx = readJson<{ weight_map?: Record<string, string> }>(indexPath);
      if (!idx || typeof idx.weight_map !== 'object' || idx.weight_map === null) {
        throw new InputError(`${indexPath} has no "weight_map"`, indexPath);
      }
      const shards = [...new Set(Object.values(idx.weight_map))].sort();
      // A shard is a file of this folder: a path (../../etc/passwd) could read anything.
      for (const s of shards) {
        if (typeof s !== 'string' || !/^[^/\\]+$/.test(s) || s === '.' || s === '..') {
          throw new InputError(`${indexPath}: shard ${JSON.stringify(s)} is not a file name in ${dir} (weight_map entries must name files of the model folder)`, indexPath);
        }
      }
      this.files = shards.map((s) => SafetensorsFile.open(join(dir, s)));
      for (const [name, shard] of Object.entries(idx.weight_map)) {
        const file = this.files[shards.indexOf(shard)]!;
        const info = file.tensors.get(name);
        if (!info) throw new InputError(`${indexPath} places tensor '${name}' in ${shard}, but ${file.path} does not hold it`, file.path);
        this.index.set(name, { file, info });
      }
    } else if (existsSync(single)) {
      this.files = [SafetensorsFile.open(single)];
      for (const [name, info] of this.files[0]!.tensors) this.index.set(name, { file: this.files[0]!, info });
    } else {
      throw new InputError(`${dir} holds no weights: expected ${single} or ${indexPath}`, single);
    }
    for (const f of this.files) this.hash.update(f.headerBytes);
    // Before any tensor is allocated: a (sparse) file claiming more float32 weights than this machine
    // holds would otherwise end in an abort or a raw RangeError deep in the backend.
    let f32Bytes = 0;
    for (const { info } of this.index.values()) f32Bytes += info.shape.reduce((a, d) => a * d, 1) * 4;
    const limit = Math.floor(totalmem() * MEMORY_SHARE);
    if (f32Bytes > limit) {
      throw new InputError(`${this.describe()} holds ${(f32Bytes / 2 ** 30).toFixed(1)} GiB of weights as float32, more than the ${(limit / 2 ** 30).toFixed(1)} GiB (${MEMORY_SHARE * 100}% of this machine's memory) the lab will load`, this.files[0]?.path);
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
    return file.readF32(name, this.hash);
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

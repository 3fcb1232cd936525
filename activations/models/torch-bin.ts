/**
 * pytorch_model.bin (torch.save since torch 1.6): a zip archive holding `<root>/data.pkl`, the pickled
 * state dict, and `<root>/data/<key>`, one entry per storage, raw little-endian elements (or big-endian
 * when `<root>/byteorder` says so). The zip's central directory is read with yauzl (maintained, zip64,
 * and it rejects entry names that escape the archive); the pickle with torch-pickle.ts, which executes
 * nothing. torch writes entries uncompressed, so after open() each tensor is one positioned read of
 * its storage's bytes, sliced by its offset and strides: memory holds one tensor at a time, as with
 * safetensors. The pre-1.6 format (not a zip) is refused with what to do.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Hash } from 'node:crypto';
import yauzl from 'yauzl';
import { InputError } from '../../lab/core/index.ts';
import { FLOAT_DTYPES, toF32, type SafetensorsDtype } from './safetensors.ts';
import { unpickleStateDict, type TensorRef } from './torch-pickle.ts';

const ELEM_BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Elements of one tensor (a 4 GiB float32 array): a view past it is a corrupt or hostile pickle. */
const MAX_ELEMENTS = 2 ** 30;

/** The largest data.pkl read (a state dict's pickle is kilobytes; a bigger one is not a state dict). */
const MAX_PICKLE = 64 * 1024 * 1024;

export interface TorchTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

interface Located {
  ref: TensorRef;
  /** Absolute file offset of the storage's first byte, and its byte length. */
  start: number;
  bytes: number;
}

/** yauzl 3's readLocalFileHeader, which @types/yauzl 2.10 does not declare. */
type WithLocalHeader = yauzl.ZipFile & {
  readLocalFileHeader(entry: yauzl.Entry, options: { minimal: true }, cb: (err: Error | null, h: { fileDataStart: number }) => void): void;
};

function openZip(path: string): Promise<WithLocalHeader> {
  return new Promise((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip as WithLocalHeader))),
  );
}

function entries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const out: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      out.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(out));
    zip.on('error', reject);
    zip.readEntry();
  });
}

function dataStart(zip: WithLocalHeader, e: yauzl.Entry): Promise<number> {
  return new Promise((resolve, reject) => zip.readLocalFileHeader(e, { minimal: true }, (err, h) => (err ? reject(err) : resolve(h.fileDataStart))));
}

export class TorchBinFile {
  readonly tensors = new Map<string, TorchTensorInfo>();
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    /** data.pkl's bytes: the "header" folded into the checkpoint's checksum. */
    readonly headerBytes: Buffer,
    private readonly located: Map<string, Located>,
    private readonly bigEndian: boolean,
  ) {
    this.fd = fd;
    for (const [name, l] of located) this.tensors.set(name, { name, dtype: l.ref.storage.dtype, shape: l.ref.shape });
  }

  static async open(path: string): Promise<TorchBinFile> {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new InputError(`cannot open ${path}: ${(err as Error).message}`, path);
    }
    let zip: WithLocalHeader | undefined;
    try {
      if (!fstatSync(fd).isFile()) throw new InputError(`${path} is not a regular file`, path);
      const magic = Buffer.alloc(4);
      readSync(fd, magic, 0, 4, 0);
      if (magic.readUInt32LE(0) !== 0x04034b50) {
        throw new InputError(
          `${path} is not a zip archive: a pytorch_model.bin from before torch 1.6 (the legacy format) or not a torch.save file at all. ` +
            `Re-save it with a recent torch (torch.save(torch.load(f, weights_only=True), f)) or convert it to model.safetensors`,
          path,
        );
      }
      try {
        zip = await openZip(path);
      } catch (err) {
        throw new InputError(`${path}: not a readable zip archive (${(err as Error).message})`, path);
      }
      let list: yauzl.Entry[];
      try {
        list = await entries(zip);
      } catch (err) {
        throw new InputError(`${path}: corrupt zip directory (${(err as Error).message})`, path);
      }
      const pkls = list.filter((e) => e.fileName === 'data.pkl' || e.fileName.endsWith('/data.pkl'));
      if (pkls.length !== 1) throw new InputError(`${path}: expected one <root>/data.pkl in the archive, found ${pkls.length}: not a torch.save file`, path);
      const root = pkls[0]!.fileName.slice(0, -'data.pkl'.length);
      const byName = new Map(list.map((e) => [e.fileName, e]));
      const pkl = await readStored(fd, zip, pkls[0]!, path, MAX_PICKLE);
      const order = byName.get(`${root}byteorder`);
      const byteorder = order ? (await readStored(fd, zip, order, path, 16)).toString('utf8').trim() : 'little';
      if (byteorder !== 'little' && byteorder !== 'big') throw new InputError(`${path}: ${root}byteorder is '${byteorder}', expected little or big`, path);
      const sd = unpickleStateDict(pkl, path);
      if (!(sd instanceof Map)) throw new InputError(`${path}: the pickle holds a ${Array.isArray(sd) ? 'list' : typeof sd}, not a state dict of tensors`, path);
      const located = new Map<string, Located>();
      const starts = new Map<string, { start: number; size: number }>();
      for (const [name, t] of sd) {
        if (typeof name !== 'string') throw new InputError(`${path}: state dict key ${JSON.stringify(name)} is not a string`, path);
        if (typeof t !== 'object' || t === null || (t as TensorRef).kind !== 'tensor') {
          throw new InputError(`${path}: state dict entry '${name}' is not a tensor (a nested checkpoint? the lab reads a flat state dict)`, path);
        }
        const ref = t as TensorRef;
        const entryName = `${root}data/${ref.storage.key}`;
        let s = starts.get(entryName);
        if (!s) {
          const e = byName.get(entryName);
          if (!e) throw new InputError(`${path}: tensor '${name}' refers to storage ${entryName}, which the archive lacks`, path);
          if (e.compressionMethod !== 0 || e.compressedSize !== e.uncompressedSize) {
            throw new InputError(`${path}: ${entryName} is compressed (method ${e.compressionMethod}); torch.save writes storages uncompressed`, path);
          }
          let start: number;
          try {
            start = await dataStart(zip, e);
          } catch (err) {
            throw new InputError(`${path}: corrupt local header of ${entryName} (${(err as Error).message})`, path);
          }
          s = { start, size: e.uncompressedSize };
          starts.set(entryName, s);
        }
        const el = ELEM_BYTES[ref.storage.dtype];
        if (ref.storage.numel * el > s.size) {
          throw new InputError(`${path}: storage ${entryName} holds ${s.size} bytes but its ${ref.storage.dtype} storage claims ${ref.storage.numel} elements`, path);
        }
        // The furthest element the view reaches must lie inside the storage.
        const n = ref.shape.reduce((a, d) => a * d, 1);
        if (n > MAX_ELEMENTS) throw new InputError(`${path}: tensor '${name}' has shape [${ref.shape}], ${n} elements, past the ${MAX_ELEMENTS} one tensor may hold here`, path);
        const last = n === 0 ? ref.offset - 1 : ref.offset + ref.shape.reduce((a, d, i) => a + (d - 1) * ref.stride[i]!, 0);
        if (last >= ref.storage.numel) {
          throw new InputError(`${path}: tensor '${name}' (shape [${ref.shape}], stride [${ref.stride}], offset ${ref.offset}) reaches element ${last} of a ${ref.storage.numel}-element storage`, path);
        }
        located.set(name, { ref, start: s.start, bytes: ref.storage.numel * el });
      }
      zip.close();
      return new TorchBinFile(path, fd, Buffer.from(pkl), located, byteorder === 'big');
    } catch (err) {
      zip?.close();
      closeSync(fd);
      throw err;
    }
  }

  /** A float tensor as f32 (F32, F16, BF16, F64), its strides and byte order honoured. */
  readF32(name: string, hash?: Hash): Float32Array {
    const l = this.located.get(name);
    if (!l) throw new InputError(`${this.path}: no tensor named '${name}'`, this.path);
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    const { ref } = l;
    const dtype = ref.storage.dtype;
    if (!FLOAT_DTYPES.includes(dtype) && dtype !== 'F64') {
      throw new InputError(`${this.path}: tensor '${name}' has dtype ${dtype}; expected a float tensor`, this.path);
    }
    const el = ELEM_BYTES[dtype];
    const n = ref.shape.reduce((a, d) => a * d, 1);
    // Only the storage span this view covers.
    const lo = ref.offset;
    const hi = n === 0 ? lo : ref.offset + ref.shape.reduce((a, d, i) => a + (d - 1) * ref.stride[i]!, 0) + 1;
    const raw = Buffer.alloc((hi - lo) * el);
    const got = readSync(this.fd, raw, 0, raw.length, l.start + lo * el);
    if (got !== raw.length) throw new InputError(`${this.path} is truncated: tensor '${name}' needs ${raw.length} bytes, read ${got}`, this.path);
    hash?.update(raw);
    if (this.bigEndian && el > 1) for (let i = 0; i < raw.length; i += el) raw.subarray(i, i + el).reverse();
    const span = dtype === 'F64' ? f64ToF32(raw) : toF32(raw, dtype);
    return gather(span, ref.shape, ref.stride);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The elements of a strided view, in row-major order (a copy-free return when already contiguous). */
export function gather(span: Float32Array, shape: number[], stride: number[]): Float32Array {
  const n = shape.reduce((a, d) => a * d, 1);
  let contiguous = true;
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    if (shape[i]! !== 1 && stride[i] !== s) contiguous = false;
    s *= shape[i]!;
  }
  if (contiguous) return span.length === n ? span : span.slice(0, n);
  const out = new Float32Array(n);
  const idx = new Array(shape.length).fill(0);
  let src = 0;
  for (let k = 0; k < n; k++) {
    out[k] = span[src]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      src += stride[d]!;
      if (idx[d] < shape[d]!) break;
      src -= idx[d] * stride[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function f64ToF32(raw: Buffer): Float32Array {
  const aligned = new Uint8Array(raw.length);
  aligned.set(raw);
  return Float32Array.from(new Float64Array(aligned.buffer));
}

/** An uncompressed entry's bytes (data.pkl, byteorder), at most `max`. */
async function readStored(fd: number, zip: WithLocalHeader, e: yauzl.Entry, path: string, max: number): Promise<Buffer> {
  if (e.compressionMethod !== 0 || e.compressedSize !== e.uncompressedSize) throw new InputError(`${path}: ${e.fileName} is compressed (method ${e.compressionMethod}); torch.save writes it uncompressed`, path);
  if (e.uncompressedSize > max) throw new InputError(`${path}: ${e.fileName} is ${e.uncompressedSize} bytes, past the ${max} a state dict's needs`, path);
  let start: number;
  try {
    start = await dataStart(zip, e);
  } catch (err) {
    throw new InputError(`${path}: corrupt local header of ${e.fileName} (${(err as Error).message})`, path);
  }
  const buf = Buffer.alloc(e.uncompressedSize);
  const got = readSync(fd, buf, 0, buf.length, start);
  if (got !== buf.length) throw new InputError(`${path} is truncated inside ${e.fileName}`, path);
  return buf;
}

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then the tensor bytes,
 * offsets relative to the end of the header. The reader opens the file, parses the header, and reads
 * each tensor with one positioned read, so memory holds one tensor at a time rather than the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { InputError } from '../../lab/core/index.ts';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Float dtypes this reader converts to f32. */
export const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16'];

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offsets in the file. */
  begin: number;
  end: number;
}

/** Header sizes beyond this are corrupt files, not real checkpoints (HF caps it at 100 MB). */
const MAX_HEADER = 100 * 1024 * 1024;

export class SafetensorsFile {
  readonly tensors: Map<string, TensorInfo>;
  readonly metadata: Record<string, string>;
  /** The raw header bytes, for checksums. */
  readonly headerBytes: Buffer;
  private fd: number | undefined;

  private constructor(readonly path: string, fd: number, header: Buffer, tensors: Map<string, TensorInfo>, meta: Record<string, string>) {
    this.fd = fd;
    this.headerBytes = header;
    this.tensors = tensors;
    this.metadata = meta;
  }

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new InputError(`cannot open ${path}: ${(err as Error).message}`, path);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new InputError(`${path} is not a regular file (a ${st.isDirectory() ? 'directory' : 'device, FIFO or socket'}): expected a safetensors checkpoint`, path);
      const size = st.size;
      if (size < 8) throw new InputError(`${path} is truncated: ${size} bytes, too short for a safetensors header`, path);
      const lenBuf = Buffer.alloc(8);
      readFully(fd, lenBuf, 0, path);
      const n = Number(lenBuf.readBigUInt64LE(0));
      if (n <= 1 || n > MAX_HEADER || 8 + n > size) {
        throw new InputError(`${path} is corrupt or truncated: header length ${n} does not fit a ${size}-byte file`, path);
      }
      const header = Buffer.alloc(n);
      readFully(fd, header, 8, path);
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(header.toString('utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new InputError(`${path}: safetensors header is not valid JSON (${(err as Error).message})`, path);
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        throw new InputError(`${path}: safetensors header is not a JSON object`, path);
      }
      const dataStart = 8 + n;
      const dataLen = size - dataStart;
      const tensors = new Map<string, TensorInfo>();
      let meta: Record<string, string> = {};
      for (const [name, raw] of Object.entries(json)) {
        if (name === '__metadata__') {
          if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string'))) {
            throw new InputError(`${path}: safetensors __metadata__ must map names to strings`, path);
          }
          meta = (raw ?? {}) as Record<string, string>;
          continue;
        }
        tensors.set(name, parseEntry(path, name, raw, dataStart, dataLen));
      }
      checkTiling(path, [...tensors.values()], dataStart, dataLen, header);
      return new SafetensorsFile(path, fd, header, tensors, meta);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new InputError(`${this.path}: no tensor named '${name}'`, this.path);
    return t;
  }

  /** The tensor's raw bytes, one positioned read. */
  readRaw(name: string, hash?: Hash): Buffer {
    const t = this.info(name);
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    const buf = Buffer.alloc(t.end - t.begin);
    const got = readSync(this.fd, buf, 0, buf.length, t.begin);
    if (got !== buf.length) {
      throw new InputError(`${this.path} is truncated: tensor '${name}' needs bytes ${t.begin}..${t.end}, read ${got}`, this.path);
    }
    hash?.update(buf);
    return buf;
  }

  /** A float tensor converted to f32 (F32, F16, BF16). */
  readF32(name: string, hash?: Hash): Float32Array {
    const t = this.info(name);
    if (!FLOAT_DTYPES.includes(t.dtype)) {
      throw new InputError(`${this.path}: tensor '${name}' has dtype ${t.dtype}; expected one of ${FLOAT_DTYPES.join(', ')}`, this.path);
    }
    return toF32(this.readRaw(name, hash), t.dtype);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function readFully(fd: number, buf: Buffer, position: number, path: string): void {
  const got = readSync(fd, buf, 0, buf.length, position);
  if (got !== buf.length) throw new InputError(`${path} is truncated at byte ${position + got}`, path);
}

/**
 * The tensors must tile the data region exactly, as the reference implementation checks
 * (huggingface/safetensors, Metadata::validate: sorted by offset, each begins where the previous ended,
 * the last ends at the end of the buffer). A header length that is off, a gap of junk, overlapping
 * offsets or a duplicated name (JSON keeps the last, leaving the first one's bytes a gap) all fail here
 * instead of reading shifted or garbled tensors.
 */
function checkTiling(path: string, list: TensorInfo[], dataStart: number, dataLen: number, header: Buffer): void {
  const sorted = list.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = dataStart;
  for (const t of sorted) {
    if (t.begin < at) {
      const other = sorted.find((o) => o !== t && o.begin < t.end && t.begin < o.end);
      throw new InputError(`${path} is corrupt: tensor '${t.name}' (data bytes ${t.begin - dataStart}..${t.end - dataStart}) overlaps '${other?.name ?? '?'}'`, path);
    }
    if (t.begin > at) {
      throw new InputError(`${path} is corrupt: ${t.begin - at} data bytes before tensor '${t.name}' belong to no tensor (a gap, a duplicated name, or a wrong header length)`, path);
    }
    at = t.end;
  }
  if (at !== dataStart + dataLen) {
    throw new InputError(`${path} is corrupt or has a wrong header length: the tensors end at data byte ${at - dataStart} but the file holds ${dataLen} data bytes`, path);
  }
  // The reference also refuses a header that does not start as a JSON object.
  if (header[0] !== 0x7b) throw new InputError(`${path}: the safetensors header does not start with '{'`, path);
  const names = countKeys(header.toString('utf8'));
  if (names !== undefined && names !== list.length + (/"__metadata__"\s*:/.test(header.toString('utf8')) ? 1 : 0)) {
    throw new InputError(`${path} is corrupt: its header names a tensor twice`, path);
  }
}

/** Top-level keys in a JSON object's text (duplicates counted), or undefined when it is not simple to tell. */
function countKeys(text: string): number | undefined {
  let depth = 0, keys = 0, inStr = false, expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inStr) {
      if (ch === '\\') i++;
      else if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') {
      if (depth === 1 && expectKey) keys++;
      expectKey = false;
      inStr = true;
    } else if (ch === '{' || ch === '[') {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (ch === '}' || ch === ']') depth--;
    else if (ch === ',' && depth === 1) expectKey = true;
  }
  return depth === 0 ? keys : undefined;
}

function parseEntry(path: string, name: string, raw: unknown, dataStart: number, dataLen: number): TensorInfo {
  const bad = (why: string) => new InputError(`${path}: tensor '${name}': ${why}`, path);
  if (typeof raw !== 'object' || raw === null) throw bad('header entry is not an object');
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) throw bad(`unsupported dtype ${JSON.stringify(e.dtype)}`);
  const dtype = e.dtype as SafetensorsDtype;
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`bad shape ${JSON.stringify(e.shape)}`);
  const shape = e.shape as number[];
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0)) {
    throw bad(`bad data_offsets ${JSON.stringify(off)}`);
  }
  const [b, en] = off as [number, number];
  if (b > en) throw bad(`data_offsets [${b}, ${en}] are reversed`);
  const want = shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[dtype];
  if (en - b !== want) throw bad(`data_offsets [${b}, ${en}] hold ${en - b} bytes but shape [${shape}] of ${dtype} needs ${want}`);
  if (en > dataLen) {
    throw new InputError(`${path} is truncated or corrupt: tensor '${name}' ends at data byte ${en} but the file holds ${dataLen} data bytes`, path);
  }
  return { name, dtype, shape, begin: dataStart + b, end: dataStart + en };
}

let f16Table: Float32Array | undefined;

/** Every f16 bit pattern's value, so conversion is one table lookup per element. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = s * m * 2 ** -24;
    else if (e === 31) t[h] = m ? NaN : s * Infinity;
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (f16Table = t);
}

export function toF32(buf: Buffer, dtype: SafetensorsDtype): Float32Array {
  const n = buf.length / DTYPE_BYTES[dtype];
  // Copy into an aligned buffer: a Buffer's byteOffset into Node's pool need not be a multiple of 4.
  const aligned = new Uint8Array(buf.length);
  aligned.set(buf);
  if (dtype === 'F32') return new Float32Array(aligned.buffer, 0, n);
  const u16 = new Uint16Array(aligned.buffer, 0, n);
  const out = new Float32Array(n);
  if (dtype === 'F16') {
    const t = halfTable();
    for (let i = 0; i < n; i++) out[i] = t[u16[i]!]!;
  } else {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = u16[i]! << 16;
  }
  return out;
}

/** f32 -> f16 bits, round to nearest even, overflow to infinity. */
export function f32ToF16(x: Float32Array): Uint16Array {
  const u32 = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const f = u32[i]!;
    const sign = (f >>> 16) & 0x8000;
    const exp = (f >>> 23) & 0xff;
    let mant = f & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && h & 1)) h++;
      out[i] = sign | h;
    } else {
      let h = (e << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry into the exponent is still correct
      out[i] = sign | h;
    }
  }
  return out;
}

export interface TensorToWrite {
  dtype: 'f32' | 'f16';
  shape: number[];
  data: Float32Array;
}

/** Serialises tensors to safetensors bytes (names sorted, as the Python writer does). */
export function encodeSafetensors(tensors: Map<string, TensorToWrite>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (n !== t.data.length) {
      throw new InputError(`tensor '${name}': shape [${t.shape}] holds ${n} values but data has ${t.data.length}`);
    }
    const bytes = t.dtype === 'f16' ? new Uint8Array(f32ToF16(t.data).buffer) : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: t.dtype === 'f16' ? 'F16' : 'F32', shape: t.shape, data_offsets: [off, off + bytes.length] };
    parts.push(bytes);
    off += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

export function sha256(): Hash {
  return createHash('sha256');
}

/**
 * Arrays saved elsewhere, read by row ranges: numpy's .npy (format versions 1-3, C order, little-endian
 * float16/32/64) and safetensors tensors (F16, BF16, F32, F64). Only the header is parsed up front; rows
 * are read with positioned reads, so memory holds the rows asked for, never the whole array.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../lab/core/index.ts';
import { SafetensorsFile } from './models/safetensors.ts';
import { halfToFloatTable } from './store/index.ts';

export type ArrayDtype = 'f16' | 'bf16' | 'f32' | 'f64';
const BYTES: Record<ArrayDtype, number> = { f16: 2, bf16: 2, f32: 4, f64: 8 };

/** One array in a file: where its bytes start, its dtype and shape. */
export interface ArraySource {
  /** The tensor name (safetensors) or the .npy file's name without extension. */
  name: string;
  path: string;
  dtype: ArrayDtype;
  shape: number[];
  /** Absolute byte offset of element 0. */
  offset: number;
}

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
const NPY_DESCR: Record<string, ArrayDtype> = { '<f2': 'f16', '<f4': 'f32', '<f8': 'f64', '=f2': 'f16', '=f4': 'f32', '=f8': 'f64' };

function readAt(fd: number, path: string, len: number, pos: number): Buffer {
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, pos + got);
    if (n === 0) throw new InputError(`${path} is truncated: needs bytes ${pos}..${pos + len}, the file ends at ${pos + got}`, path);
    got += n;
  }
  return b;
}

/** Bytes [pos, pos + len) of a file. */
export function readFileRange(path: string, pos: number, len: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    return readAt(fd, path, len, pos);
  } finally {
    closeSync(fd);
  }
}

/** Parses a .npy header (the dict literal numpy writes: descr, fortran_order, shape). */
export function openNpy(path: string): ArraySource {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InputError(`cannot open ${path}: ${(err as Error).message}`, path);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 10) throw new InputError(`${path} is not a .npy file (${size} bytes)`, path);
    const pre = readAt(fd, path, 10, 0);
    if (!pre.subarray(0, 6).equals(NPY_MAGIC)) throw new InputError(`${path} is not a .npy file (no \\x93NUMPY magic)`, path);
    const major = pre[6]!;
    if (major < 1 || major > 3) throw new InputError(`${path}: .npy format version ${major}.${pre[7]} is not one numpy writes (1-3)`, path);
    const lenBytes = major === 1 ? 2 : 4;
    const hlen = major === 1 ? pre.readUInt16LE(8) : readAt(fd, path, 4, 8).readUInt32LE(0);
    const start = 8 + lenBytes;
    if (hlen > 1 << 20 || start + hlen > size) throw new InputError(`${path}: .npy header length ${hlen} does not fit the file`, path);
    const header = readAt(fd, path, hlen, start).toString(major === 3 ? 'utf8' : 'latin1');
    const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
    const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
    const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
    if (descr === undefined || fortran === undefined || shapeText === undefined) throw new InputError(`${path}: .npy header is not a numpy dict (${header.trim().slice(0, 120)})`, path);
    const dtype = NPY_DESCR[descr];
    if (!dtype) throw new InputError(`${path}: dtype '${descr}' is not supported (little-endian float16, float32 or float64: save with arr.astype(np.float32))`, path);
    if (fortran === 'True') throw new InputError(`${path} is in Fortran order: save np.ascontiguousarray(arr) so rows are contiguous`, path);
    const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new InputError(`${path}: bad shape (${shapeText})`, path);
    const offset = start + hlen;
    const need = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    if (offset + need > size) throw new InputError(`${path} is truncated: shape [${shape}] of ${descr} needs ${need} data bytes, the file has ${size - offset}`, path);
    return { name: basename(path).replace(/\.npy$/i, ''), path, dtype, shape, offset };
  } finally {
    closeSync(fd);
  }
}

const ST_DTYPES: Record<string, ArrayDtype> = { F16: 'f16', BF16: 'bf16', F32: 'f32', F64: 'f64' };

/** Every tensor of a safetensors file (header checked by the model loader's reader). */
export function openSafetensorsArrays(path: string): ArraySource[] {
  const f = SafetensorsFile.open(path);
  try {
    return [...f.tensors.values()].map((t) => {
      const dtype = ST_DTYPES[t.dtype];
      if (!dtype) throw new InputError(`${path}: tensor '${t.name}' has dtype ${t.dtype}; activations must be F16, BF16, F32 or F64 (pick tensors with --hook)`, path);
      return { name: t.name, path, dtype, shape: t.shape, offset: t.begin };
    });
  } finally {
    f.close();
  }
}

/** Reads rows [r0, r1) of an array whose rows are `rowLen` elements, as f32. */
export class RowReader {
  private fd: number;
  constructor(readonly src: ArraySource, readonly rowLen: number) {
    try {
      this.fd = openSync(src.path, 'r');
    } catch (err) {
      throw new InputError(`cannot open ${src.path}: ${(err as Error).message}`, src.path);
    }
  }

  read(r0: number, r1: number): Float32Array {
    const b = BYTES[this.src.dtype];
    const n = (r1 - r0) * this.rowLen;
    const raw = readAt(this.fd, this.src.path, n * b, this.src.offset + r0 * this.rowLen * b);
    return toF32(raw, this.src.dtype, n);
  }

  close(): void {
    closeSync(this.fd);
  }
}

function toF32(raw: Buffer, dtype: ArrayDtype, n: number): Float32Array {
  const out = new Float32Array(n);
  if (dtype === 'f32') {
    for (let i = 0; i < n; i++) out[i] = raw.readFloatLE(i * 4);
  } else if (dtype === 'f64') {
    for (let i = 0; i < n; i++) out[i] = raw.readDoubleLE(i * 8);
  } else if (dtype === 'f16') {
    const t = halfToFloatTable();
    for (let i = 0; i < n; i++) out[i] = t[raw.readUInt16LE(i * 2)]!;
  } else {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = raw.readUInt16LE(i * 2) << 16;
  }
  return out;
}

/**
 * The compressed file: a small binary header, then the range-coded payload.
 *
 *   offset  field
 *   0       magic "NLAC" (4 bytes)
 *   4       format version (u8) = FORMAT_VERSION
 *   5       quantisation total bits (u8); window context and overlap (varints)
 *   .       model digest: first 8 bytes of SHA-256 of LanguageModel.source.checksum
 *   .       tokenizer digest: first 8 bytes of SHA-256 over every id's token string and the BOS id
 *   .       engine: length-prefixed UTF-8, "<backend> tfjs-core@<version>"
 *   .       original length, item count, payload length (varints)
 *   .       original digest: first 8 bytes of SHA-256 of the original bytes
 *   .       payload CRC32 (u32 LE), then header CRC32 (u32 LE) over every header byte before it
 *   .       payload
 *
 * Varints are unsigned LEB128 (7 bits per byte, at most 8 bytes). The header is about 70 bytes: the
 * figures in `lab compress --report` give the payload and the whole file separately.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { InputError } from '../core/index.ts';

export const MAGIC = Uint8Array.from([0x4e, 0x4c, 0x41, 0x43]); // "NLAC"
export const FORMAT_VERSION = 1;

export interface Header {
  formatVersion: number;
  totalBits: number;
  context: number;
  overlap: number;
  modelDigest: string;
  tokenizerDigest: string;
  engine: string;
  originalLength: number;
  itemCount: number;
  payloadLength: number;
  originalDigest: string;
  payloadCrc: number;
}

export function digest8(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 16);
}

class Writer {
  private bytes: number[] = [];
  u8(v: number): void {
    this.bytes.push(v & 0xff);
  }
  u32(v: number): void {
    for (let i = 0; i < 4; i++) this.u8(Math.floor(v / 2 ** (8 * i)));
  }
  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    do {
      const low = v % 128;
      v = Math.floor(v / 128);
      this.u8(v > 0 ? low | 0x80 : low);
    } while (v > 0);
  }
  hex(h: string): void {
    for (let i = 0; i < h.length; i += 2) this.u8(parseInt(h.slice(i, i + 2), 16));
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.varint(b.length);
    for (const x of b) this.u8(x);
  }
  raw(b: Uint8Array): void {
    for (const x of b) this.u8(x);
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array, private readonly file: string) {}
  u8(): number {
    if (this.pos >= this.b.length) throw new InputError(`${this.file} is truncated: it ends inside the header`, this.file);
    return this.b[this.pos++]!;
  }
  u32(): number {
    let v = 0;
    for (let i = 0; i < 4; i++) v += this.u8() * 2 ** (8 * i);
    return v;
  }
  varint(): number {
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const x = this.u8();
      v += (x & 0x7f) * 2 ** (7 * i);
      if (!(x & 0x80)) return v;
    }
    throw new InputError(`${this.file} is corrupted: a header number is too long`, this.file);
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += this.u8().toString(16).padStart(2, '0');
    return s;
  }
  str(): string {
    const n = this.varint();
    if (n > 256) throw new InputError(`${this.file} is corrupted: a header string is ${n} bytes long`, this.file);
    const start = this.pos;
    for (let i = 0; i < n; i++) this.u8();
    return new TextDecoder().decode(this.b.subarray(start, this.pos));
  }
}

export function writeContainer(h: Omit<Header, 'formatVersion' | 'payloadLength' | 'payloadCrc'>, payload: Uint8Array): Uint8Array {
  const w = new Writer();
  w.raw(MAGIC);
  w.u8(FORMAT_VERSION);
  w.u8(h.totalBits);
  w.varint(h.context);
  w.varint(h.overlap);
  w.hex(h.modelDigest);
  w.hex(h.tokenizerDigest);
  w.str(h.engine);
  w.varint(h.originalLength);
  w.varint(h.itemCount);
  w.varint(payload.length);
  w.hex(h.originalDigest);
  w.u32(crc32(payload));
  const head = w.done();
  const out = new Uint8Array(head.length + 4 + payload.length);
  out.set(head, 0);
  new DataView(out.buffer).setUint32(head.length, crc32(head), true);
  out.set(payload, head.length + 4);
  return out;
}

/** Parses and checks the header and payload integrity; model and engine checks are the caller's. */
export function readContainer(file: Uint8Array, name = 'input'): { header: Header; payload: Uint8Array } {
  if (file.length < MAGIC.length || MAGIC.some((m, i) => file[i] !== m)) {
    throw new InputError(`${name} is not a file written by lab compress (no NLAC magic)`, name);
  }
  const r = new Reader(file, name);
  r.pos = MAGIC.length;
  const formatVersion = r.u8();
  if (formatVersion !== FORMAT_VERSION) {
    throw new InputError(`${name} has format version ${formatVersion}; this lab reads version ${FORMAT_VERSION}`, name);
  }
  const header: Header = {
    formatVersion,
    totalBits: r.u8(),
    context: r.varint(),
    overlap: r.varint(),
    modelDigest: r.hex(8),
    tokenizerDigest: r.hex(8),
    engine: r.str(),
    originalLength: r.varint(),
    itemCount: r.varint(),
    payloadLength: r.varint(),
    originalDigest: r.hex(8),
    payloadCrc: r.u32(),
  };
  const headEnd = r.pos;
  const headerCrc = r.u32();
  if (crc32(file.subarray(0, headEnd)) !== headerCrc) {
    throw new InputError(`${name} is corrupted: its header checksum does not match`, name);
  }
  const payload = file.subarray(r.pos);
  if (payload.length < header.payloadLength) {
    throw new InputError(`${name} is truncated: ${payload.length} of ${header.payloadLength} payload bytes present`, name);
  }
  if (payload.length > header.payloadLength) {
    throw new InputError(`${name} has ${payload.length - header.payloadLength} bytes of trailing data after the payload`, name);
  }
  if (crc32(payload) !== header.payloadCrc) {
    throw new InputError(`${name} is corrupted: its payload checksum does not match`, name);
  }
  return { header, payload };
}

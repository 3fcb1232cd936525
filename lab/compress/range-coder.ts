/**
 * A range coder over integer frequency tables, exact and deterministic in plain JS numbers.
 *
 * It is the LZMA range coder (Pavlov's `ShiftLow` with a cache byte and a count of pending 0xFF bytes
 * for carry propagation) widened from 32 to 48 bits: `low` lives in [0, 2^49) (48 bits plus a carry),
 * `range` in [2^40, 2^48) after normalisation. Every intermediate value stays below 2^53, so doubles
 * hold them exactly and no BigInt is needed:
 *   - low < 2^48 and cum * r < range <= 2^48, so low + cum * r < 2^49;
 *   - shifting keeps (low mod 2^40) * 256 < 2^48; the decoder's code < range < 2^40 before a shift;
 *   - r = floor(range / total) is computed by a float division and then corrected, so it is exact.
 * With totals up to 2^24 (MAX_TOTAL_BITS), r >= 2^16: the rounding of r wastes at most 2^-16 of the
 * range per symbol, about 2e-5 bits.
 *
 * The encoder emits exactly one byte per `shiftLow` call (7 at the flush), and the decoder reads one
 * byte per normalisation step plus 7 at the start, so a stream that ends early is detected as
 * truncated rather than padded with guesses.
 */
import { InputError } from '../core/index.ts';

const TOP = 2 ** 48;
const BOTTOM = 2 ** 40;
const SHIFT = 2 ** 40; // value of the top byte's lowest bit
export const MAX_TOTAL_BITS = 24;
const INIT_RANGE = TOP - 1;
/** Bytes the encoder adds at the end and the decoder reads up front. */
export const FLUSH_BYTES = 7;

/** r = floor(range / total), exact for integers below 2^53. */
function divFloor(range: number, total: number): number {
  let r = Math.floor(range / total);
  while (r * total > range) r--;
  while ((r + 1) * total <= range) r++;
  return r;
}

export class RangeEncoder {
  private low = 0;
  private range = INIT_RANGE;
  private cache = 0;
  private cacheSize = 1;
  private buf = new Uint8Array(1 << 12);
  private len = 0;
  private finished = false;

  /** Codes the symbol occupying [cum, cum + freq) of [0, total). */
  encode(cum: number, freq: number, total: number): void {
    if (!(freq >= 1 && cum >= 0 && cum + freq <= total && total <= 2 ** MAX_TOTAL_BITS)) {
      throw new RangeError(`bad symbol interval cum=${cum} freq=${freq} total=${total}`);
    }
    const r = divFloor(this.range, total);
    this.low += r * cum;
    this.range = r * freq;
    while (this.range < BOTTOM) {
      this.range *= 256;
      this.shiftLow();
    }
  }

  /** Codes `bits` (<= 24) raw bits with a uniform distribution. */
  encodeBits(value: number, bits: number): void {
    this.encode(value, 1, 2 ** bits);
  }

  private shiftLow(): void {
    if (this.low < 0xff * SHIFT || this.low >= TOP) {
      const carry = this.low >= TOP ? 1 : 0;
      let b = this.cache + carry;
      for (; this.cacheSize > 0; this.cacheSize--) {
        this.push(b & 0xff);
        b = 0xff + carry;
      }
      this.cache = Math.floor((this.low % TOP) / SHIFT);
    }
    this.cacheSize++;
    this.low = (this.low % SHIFT) * 256;
  }

  private push(byte: number): void {
    if (this.len === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = byte;
  }


  /** Flushes the state and returns the coded bytes; the encoder cannot be used afterwards. */
  finish(): Uint8Array {
    if (this.finished) throw new Error('RangeEncoder.finish called twice');
    this.finished = true;
    // Six shifts move all 48 bits of low out; the seventh settles the byte they left in the cache.
    // What stays pending after that (one zero byte) is never needed by the decoder, which reads one
    // byte per shiftLow call: FLUSH_BYTES at the start and one per normalisation.
    for (let i = 0; i < FLUSH_BYTES; i++) this.shiftLow();
    return this.buf.slice(0, this.len);
  }
}

export class RangeDecoder {
  private code = 0;
  private range = INIT_RANGE;
  private pos = 0;
  private r = 0;

  constructor(private readonly data: Uint8Array, private readonly what = 'compressed stream') {
    if (this.next() !== 0) throw new InputError(`${what} is corrupted: its first byte must be 0`);
    for (let i = 1; i < FLUSH_BYTES; i++) this.code = this.code * 256 + this.next();
  }

  private next(): number {
    if (this.pos >= this.data.length) {
      throw new InputError(`${this.what} is truncated: the decoder needs more than its ${this.data.length} bytes`);
    }
    return this.data[this.pos++]!;
  }

  /** First half of decoding: the cumulative count the next symbol's interval contains. */
  target(total: number): number {
    this.r = divFloor(this.range, total);
    const v = Math.floor(this.code / this.r);
    if (v >= total) throw new InputError(`${this.what} is corrupted: code value outside the coding range`);
    return v;
  }

  /** Second half: consumes the symbol [cum, cum + freq) that `target` pointed into. */
  consume(cum: number, freq: number): void {
    this.code -= cum * this.r;
    this.range = this.r * freq;
    while (this.range < BOTTOM) {
      this.range *= 256;
      this.code = this.code * 256 + this.next();
    }
  }

  decodeBits(bits: number): number {
    const v = this.target(2 ** bits);
    this.consume(v, 1);
    return v;
  }

  /** Bytes consumed so far; equals the stream length once every symbol is decoded. */
  get position(): number {
    return this.pos;
  }
}

/** Index s with cum[s] <= v < cum[s] + freq[s], scanning the frequency table. */
export function findSymbol(freqs: ArrayLike<number>, v: number): { symbol: number; cum: number } {
  let cum = 0;
  for (let s = 0; s < freqs.length; s++) {
    const f = freqs[s]!;
    if (v < cum + f) return { symbol: s, cum };
    cum += f;
  }
  throw new RangeError(`target ${v} beyond the table total ${cum}`);
}

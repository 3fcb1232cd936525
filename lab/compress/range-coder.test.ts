import { describe, expect, it } from 'vitest';
import { Rng } from '../core/index.ts';
import { FLUSH_BYTES, RangeDecoder, RangeEncoder, findSymbol } from './range-coder.ts';

function cumsum(freqs: number[]): number[] {
  const c = [0];
  for (const f of freqs) c.push(c[c.length - 1]! + f);
  return c;
}

/** Codes `symbols` with per-step tables and decodes them back; returns the stream and its ideal size. */
function roundTrip(tables: number[][], symbols: number[]): { bytes: Uint8Array; idealBits: number } {
  const enc = new RangeEncoder();
  let idealBits = 0;
  for (let i = 0; i < symbols.length; i++) {
    const t = tables[i % tables.length]!;
    const c = cumsum(t);
    const total = c[c.length - 1]!;
    const s = symbols[i]!;
    enc.encode(c[s]!, t[s]!, total);
    idealBits += Math.log2(total / t[s]!);
  }
  const bytes = enc.finish();
  const dec = new RangeDecoder(bytes);
  const totals = tables.map((t) => t.reduce((a, b) => a + b, 0));
  const decoded: number[] = [];
  for (let i = 0; i < symbols.length; i++) {
    const t = tables[i % tables.length]!;
    const { symbol, cum } = findSymbol(t, dec.target(totals[i % tables.length]!));
    decoded.push(symbol);
    dec.consume(cum, t[symbol]!);
  }
  expect(decoded).toEqual(symbols);
  // One byte per encoder shift: the decoder ends exactly at the end of the stream.
  expect(dec.position).toBe(bytes.length);
  return { bytes, idealBits };
}

/** A table of n symbols summing to 2^bits with a floor of 1, shaped by random weights. */
function randomTable(rng: Rng, n: number, bits: number, skew: number): number[] {
  const w = Array.from({ length: n }, () => Math.pow(rng.next(), skew));
  const sum = w.reduce((a, b) => a + b, 0);
  const total = 2 ** bits;
  const f = w.map((x) => 1 + Math.floor((x / sum) * (total - n)));
  f[0]! += total - f.reduce((a, b) => a + b, 0);
  return f;
}

function sample(rng: Rng, table: number[]): number {
  const total = table.reduce((a, b) => a + b, 0);
  let v = Math.floor(rng.next() * total);
  for (let s = 0; s < table.length; s++) {
    if (v < table[s]!) return s;
    v -= table[s]!;
  }
  return table.length - 1;
}

describe('range coder', () => {
  it('round-trips random distributions and lands within a few bytes of the ideal code length', () => {
    const rng = new Rng(1);
    for (let trial = 0; trial < 60; trial++) {
      const n = 2 + Math.floor(rng.next() * 300);
      const bits = 8 + Math.floor(rng.next() * 17); // 8..24
      if (2 ** bits < n) continue;
      const tables = Array.from({ length: 1 + (trial % 4) }, () => randomTable(rng, n, bits, 1 + rng.next() * 8));
      const symbols = Array.from({ length: 1 + Math.floor(rng.next() * 2000) }, (_, i) => sample(rng, tables[i % tables.length]!));
      const { bytes, idealBits } = roundTrip(tables, symbols);
      // Overhead: the flush bytes, plus at most ~2^-16 of a bit per symbol from rounding r.
      expect(bytes.length * 8).toBeGreaterThanOrEqual(Math.floor(idealBits) - 8);
      expect(bytes.length * 8).toBeLessThanOrEqual(idealBits + 8 * (FLUSH_BYTES + 1) + symbols.length * 1e-3);
    }
  });

  it('round-trips one symbol holding almost all the mass, then floor-1 symbols', () => {
    const total = 2 ** 24;
    const n = 1000;
    const t = Array.from({ length: n }, () => 1);
    t[7] = total - (n - 1);
    const symbols: number[] = [];
    for (let i = 0; i < 5000; i++) symbols.push(7); // ~0 bits each: long stretches with no output
    for (let i = 0; i < 300; i++) symbols.push(i % 2 ? n - 1 : 0); // 24 bits each
    for (let i = 0; i < 5000; i++) symbols.push(7);
    const { bytes, idealBits } = roundTrip([t], symbols);
    expect(Math.abs(bytes.length * 8 - idealBits)).toBeLessThan(8 * (FLUSH_BYTES + 1));
  });

  it('propagates carries through long runs of 0xff bytes', () => {
    // Always coding the top symbol of a two-symbol table pushes low towards the top of the range, so
    // the output is long runs of 0xff that a later carry must ripple through.
    const total = 2 ** 24;
    const t = [total - 3, 3];
    const rng = new Rng(5);
    const symbols = Array.from({ length: 20000 }, () => (rng.next() < 0.97 ? 1 : 0));
    const { bytes } = roundTrip([t], symbols);
    let longest = 0;
    let run = 0;
    for (const b of bytes) {
      run = b === 0xff ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    expect(longest).toBeGreaterThan(3);
    const t2 = [1, total - 2, 1];
    roundTrip([t2], Array.from({ length: 20000 }, (_, i) => (i % 97 === 0 ? 2 : i % 89 === 0 ? 0 : 1)));
  });

  it('codes raw bits uniformly', () => {
    const rng = new Rng(9);
    const vals = Array.from({ length: 1000 }, () => [Math.floor(rng.next() * 256), 8] as const);
    const enc = new RangeEncoder();
    for (const [v, b] of vals) enc.encodeBits(v, b);
    const bytes = enc.finish();
    expect(bytes.length).toBeLessThanOrEqual(1000 + FLUSH_BYTES + 1);
    const dec = new RangeDecoder(bytes);
    for (const [v, b] of vals) expect(dec.decodeBits(b)).toBe(v);
  });

  it('reports a truncated stream instead of inventing bytes', () => {
    const enc = new RangeEncoder();
    for (let i = 0; i < 200; i++) enc.encodeBits(i & 255, 8);
    const bytes = enc.finish();
    const dec = new RangeDecoder(bytes.slice(0, bytes.length - 20));
    expect(() => {
      for (let i = 0; i < 200; i++) dec.decodeBits(8);
    }).toThrow(/truncated/);
  });

  it('rejects an interval outside the table', () => {
    const enc = new RangeEncoder();
    expect(() => enc.encode(5, 0, 10)).toThrow(RangeError);
    expect(() => enc.encode(9, 2, 10)).toThrow(RangeError);
    expect(() => enc.encode(0, 1, 2 ** 25)).toThrow(RangeError);
  });

  it('codes an empty message as the flush bytes alone', () => {
    const bytes = new RangeEncoder().finish();
    expect(bytes.length).toBe(FLUSH_BYTES);
    expect(new RangeDecoder(bytes).position).toBe(FLUSH_BYTES);
  });
});

/**
 * The correlation pass's SIMD kernel against plain JS on the same values: the f16 decode bit for bit
 * over all 65,536 patterns (the store reader's table), u8 and f32 decode bit for bit (the reader's
 * formula, then the shift in f32), and the sums, squares and cross products against f64 sums of those
 * values over several chunks of two hooks, widths not a multiple of 8 and selected counts not of TILE.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../lab/core/index.ts';
import { halfToFloatTable } from '../activations/index.ts';
import { Comoments, SLAB_ROWS } from './simd-comoments.ts';

const same = (a: number, b: number) => (Number.isNaN(a) ? Number.isNaN(b) : Object.is(a, b));

describe('simd comoments kernel', () => {
  it('decodes every f16 pattern as the store reader does (subnormals, -0, Inf, NaN)', () => {
    const n = 512, rows = 128;
    const K = new Comoments({ widths: [n], selected: 1, maxRows: rows, dtype: 'f16' });
    const raw = K.raw(rows * n * 2);
    const h = new Uint16Array(raw.buffer, raw.byteOffset, rows * n);
    for (let i = 0; i < rows * n; i++) h[i] = i;
    K.setShift(0, new Float32Array(n));
    K.add(0, rows, 'f16');
    const got = K.lastSlab(0, rows), table = halfToFloatTable();
    let bad = 0;
    for (let i = 0; i < rows * n; i++) if (!same(got[i]!, table[i]!)) bad++;
    expect(bad).toBe(0);
  });

  it('decodes u8 (per neuron and per tensor) and f32 with the shift exactly as JS does, odd widths', () => {
    const rng = new Rng(3), n = 37, rows = 50;
    for (const groups of [n, 1]) {
      const K = new Comoments({ widths: [n], selected: 2, maxRows: rows, dtype: 'u8' });
      const raw = K.raw(rows * n);
      for (let i = 0; i < rows * n; i++) raw[i] = rng.int(256);
      const qp = new Float32Array(2 * groups);
      for (let g = 0; g < groups; g++) [qp[g], qp[groups + g]] = [rng.next() * 0.01, rng.normal()];
      const shift = Float32Array.from({ length: n }, () => rng.normal());
      K.setShift(0, shift);
      K.add(0, rows, 'u8', qp);
      const got = K.lastSlab(0, rows);
      let bad = 0;
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < n; j++) {
          const g = groups === 1 ? 0 : j;
          const x = Math.fround(qp[groups + g]! + qp[g]! * raw[r * n + j]!);
          if (!same(got[r * n + j]!, Math.fround(x - shift[j]!))) bad++;
        }
      }
      expect(bad, `u8 with ${groups} groups`).toBe(0);
    }
    const K = new Comoments({ widths: [n], selected: 2, maxRows: rows, dtype: 'f32' });
    const raw = K.raw(rows * n * 4);
    const x = new Float32Array(raw.buffer, raw.byteOffset, rows * n);
    for (let i = 0; i < rows * n; i++) x[i] = rng.normal() * 3;
    const shift = Float32Array.from({ length: n }, () => rng.normal());
    K.setShift(0, shift);
    K.add(0, rows, 'f32');
    const got = K.lastSlab(0, rows);
    expect(got.every((v, i) => same(v, Math.fround(x[i]! - shift[i % n]!)))).toBe(true);
  });

  it('sums, squares and cross products equal f64 sums of the same shifted values, chunk by chunk', () => {
    const rng = new Rng(11), widths = [29, 13], sel = [3, 0, 28, 17, 3], chunks = [SLAB_ROWS * 2 + 37, 90, 301];
    const K = new Comoments({ widths, selected: sel.length, maxRows: Math.max(...chunks), dtype: 'f16' });
    const ref = widths.map((n) => ({ sum: new Float64Array(n), sq: new Float64Array(n), cross: new Float64Array(sel.length * n), abs: new Float64Array(sel.length * n), shift: undefined as Float32Array | undefined }));
    const table = halfToFloatTable();
    for (const rows of chunks) {
      let a: Float32Array | undefined;
      widths.forEach((n, h) => {
        const raw = K.raw(rows * n * 2);
        const bits = new Uint16Array(raw.buffer, raw.byteOffset, rows * n);
        // Finite halves of magnitude 2^-8..2^3, a fifth negative, larger in the later columns (uneven means).
        for (let i = 0; i < rows * n; i++) bits[i] = (rng.next() < 0.2 ? 0x8000 : 0) | (0x1c00 + ((i % n) << 6) + rng.int(0x2c00));
        const x = Float32Array.from(bits, (b) => table[b]!);
        K.add(h, rows, 'f16', undefined, h === 0 ? sel : undefined);
        const R = ref[h]!;
        if (!R.shift) {
          // The shift is the first chunk's mean (its f32 rounding, from f32 block sums).
          R.shift = K.result(h, sel.length).shift;
          for (let j = 0; j < n; j++) {
            let m = 0;
            for (let r = 0; r < rows; r++) m += x[r * n + j]!;
            expect(Math.abs(R.shift[j]! - m / rows)).toBeLessThan(1e-6);
          }
        }
        const v = x.map((y, i) => Math.fround(y - R.shift![i % n]!));
        if (h === 0) a = Float32Array.from({ length: rows * sel.length }, (_, i) => v[Math.floor(i / sel.length) * n + sel[i % sel.length]!]!);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < n; j++) {
            const y = v[r * n + j]!;
            R.sum[j] += y;
            R.sq[j] += y * y;
            for (let s = 0; s < sel.length; s++) {
              R.cross[s * n + j] += a![r * sel.length + s]! * y;
              R.abs[s * n + j] += Math.abs(a![r * sel.length + s]! * y);
            }
          }
        }
      });
    }
    widths.forEach((n, h) => {
      const got = K.result(h, sel.length), R = ref[h]!;
      // f32 products and f32 sums over at most SLAB_ROWS rows: within a few f32 ulps of the absolute sum.
      const tol = (scale: number) => 2 ** -24 * (SLAB_ROWS + 2) * scale;
      for (let j = 0; j < n; j++) {
        expect(Math.abs(got.sq[j]! - R.sq[j]!)).toBeLessThanOrEqual(tol(R.sq[j]!));
        // Sum: bounded by the sum of |v| <= sqrt(rows * sq).
        expect(Math.abs(got.sum[j]! - R.sum[j]!)).toBeLessThanOrEqual(tol(Math.sqrt(R.sq[j]! * chunks.reduce((t, c) => t + c, 0))));
      }
      for (let i = 0; i < sel.length * n; i++) expect(Math.abs(got.cross[i]! - R.cross[i]!)).toBeLessThanOrEqual(tol(R.abs[i]!));
    });
    // A selected column's cross product with itself is its sum of squares, to the bit (same f32
    // products, same order, same f64 flushes).
    const g0 = K.result(0, sel.length);
    sel.forEach((j, s) => expect(g0.cross[s * widths[0]! + j]).toBe(g0.sq[j]));
  });
});

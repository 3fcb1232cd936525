import { describe, expect, it } from 'vitest';
import { rowsModule } from './simd-rows.ts';

/** The row kernel on its own memory, called on one pair of rows at a time. */
function kernel() {
  const mem = new WebAssembly.Memory({ initial: 1 });
  const rows = new WebAssembly.Instance(new WebAssembly.Module(rowsModule()), { env: { mem } }).exports.rows as (...a: number[]) => void;
  const f = new Float64Array(mem.buffer);
  const f32 = new Float32Array(mem.buffer);
  // f64 slots: eta 0-1, dEta 2-3, etaTry 4-5, y 6-7, w 8-9, cw 10-11, r 12-13, d 14-15, acc 20-23; d32 at byte 128.
  return (e: [number, number], y: [number, number], w: [number, number], cw: [number, number]) => {
    f.fill(0, 0, 24);
    f.set([e[0] * 0.75, e[1] * 0.75], 0);
    f.set([e[0] * 0.25, e[1] * 0.25], 2);
    f.set(y, 6);
    f.set(w, 8);
    f.set(cw, 10);
    rows(0, 16, 32, 48, 64, 80, 96, 112, 128, 16, 160);
    return { etaTry: [f[4]!, f[5]!], r: [f[12]!, f[13]!], d: [f[14]!, f[15]!], d32: [f32[32]!, f32[33]!], loss: [f[20]!, f[21]!], gb: f[22]! + f[23]! };
  };
}

describe('WebAssembly row terms (simd-rows.ts)', () => {
  it('give the sigmoid and softplus within a few ulps of Math.exp / Math.log1p over [-750, 750]', () => {
    const run = kernel();
    let worstP = 0;
    let worstSp = 0;
    for (let q = 0; q <= 20000; q++) {
      const e1 = -750 + (1500 * q) / 20000;
      const e2 = q % 2 ? 1e-9 * (q - 10000) : Math.sin(q) * 12;
      const out = run([e1, e2], [0, 0], [1, 1], [1, 1]);
      [e1, e2].forEach((e, lane) => {
        const tt = Math.exp(-Math.abs(e));
        const p = e >= 0 ? 1 / (1 + tt) : tt / (1 + tt);
        const sp = Math.max(e, 0) + Math.log1p(tt);
        // With y = 0 and cw = 1 the residual is p; the loss lane is softplus(e).
        if (p > 1e-300) worstP = Math.max(worstP, Math.abs(out.r[lane]! - p) / p);
        else expect(out.r[lane]!).toBeLessThanOrEqual(Math.max(p, Math.exp(-708)) * (1 + 1e-12)); // clamped at exp(-708)
        if (sp > 1e-300) worstSp = Math.max(worstSp, Math.abs(out.loss[lane]! - sp) / sp);
      });
    }
    expect(worstP).toBeLessThan(1e-15);
    expect(worstSp).toBeLessThan(1e-15);
  });

  it('computes the residual, the IRLS weight (also as float32), the weighted log-loss and etaTry of each row', () => {
    const run = kernel();
    const out = run([2.5, -1.25], [1, 0], [0.7, 3], [1.4, 6]);
    [2.5, -1.25].forEach((e, lane) => {
      const y = [1, 0][lane]!;
      const w = [0.7, 3][lane]!;
      const cw = [1.4, 6][lane]!;
      const p = 1 / (1 + Math.exp(-e));
      expect(out.etaTry[lane]).toBe(e);
      expect(out.r[lane]!).toBeCloseTo(cw * (p - y), 14);
      expect(out.d[lane]!).toBeCloseTo(cw * p * (1 - p), 14);
      expect(out.d32[lane]).toBe(Math.fround(out.d[lane]!));
      expect(out.loss[lane]!).toBeCloseTo(w * (Math.log1p(Math.exp(e)) - y * e), 14);
    });
    expect(out.gb).toBeCloseTo(out.r[0]! + out.r[1]!, 15);
  });
});

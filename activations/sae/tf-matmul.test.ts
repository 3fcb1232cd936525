import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { DEFAULT_COEFFICIENTS, DENSE_MATMUL_MIN, lossAndGrad, preActivations, setDenseMatMul, zeroGrads, type Sae } from './model.ts';
import { useTfMatMul } from './tf-matmul.ts';

afterAll(() => setDenseMatMul(undefined));

describe('the encoder product on tfjs', () => {
  it('equals the JS loop (to float rounding) above the size threshold', async () => {
    const rng = new Rng(2);
    const dIn = 64, dSae = 256, rows = Math.ceil(DENSE_MATMUL_MIN / (dIn * dSae));
    const f = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const sae: Sae = { arch: 'topk', dIn, dSae, k: 4, W_enc: f(dIn * dSae), b_enc: f(dSae), W_dec: f(dSae * dIn), b_dec: f(dIn) };
    const x = f(rows * dIn);
    setDenseMatMul(undefined);
    const js = preActivations(sae, x, rows);
    await useTfMatMul();
    const tfp = preActivations(sae, x, rows);
    let worst = 0;
    for (let t = 0; t < js.length; t++) worst = Math.max(worst, Math.abs(js[t]! - tfp[t]!));
    expect(worst).toBeLessThan(1e-3);
    expect(js.some((v, t) => v !== tfp[t])).toBe(true); // the tf path ran (its rounding differs somewhere)
  });

  it('gives the same loss and gradients with the dense encoder gradient (AuxK on) as the JS loop', async () => {
    const rng = new Rng(3);
    const dIn = 64, dSae = 256, rows = Math.ceil(DENSE_MATMUL_MIN / (dIn * dSae));
    const f = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * rng.normal());
    const sae: Sae = { arch: 'topk', dIn, dSae, k: 4, W_enc: f(dIn * dSae, 0.2), b_enc: f(dSae, 0.1), W_dec: f(dSae * dIn, 0.2), b_dec: f(dIn, 0.1) };
    const x = f(rows * dIn);
    const dead = Uint8Array.from({ length: dSae }, (_, j) => (j % 3 === 0 ? 1 : 0));
    const run = () => {
      const g = zeroGrads(sae);
      const r = lossAndGrad(sae, x, rows, { ...DEFAULT_COEFFICIENTS, aux: 0.5 }, g, dead);
      return { g, loss: r.loss, aux: r.aux };
    };
    setDenseMatMul(undefined);
    const js = run();
    await useTfMatMul();
    const tfg = run();
    expect(js.aux).toBeGreaterThan(0);
    expect(tfg.loss).toBeCloseTo(js.loss, 4);
    for (const key of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
      const a = js.g[key], b = tfg.g[key];
      let worst = 0, scale = 0;
      for (let t = 0; t < a.length; t++) {
        worst = Math.max(worst, Math.abs(a[t]! - b[t]!));
        scale = Math.max(scale, Math.abs(a[t]!));
      }
      expect(scale, key).toBeGreaterThan(0);
      expect(worst / scale, key).toBeLessThan(1e-4);
    }
    expect(js.g.W_enc.some((v, t) => v !== tfg.g.W_enc[t])).toBe(true); // the dense path ran
  });
});

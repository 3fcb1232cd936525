import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { DENSE_MATMUL_MIN, preActivations, setDenseMatMul, type Sae } from './model.ts';
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
});

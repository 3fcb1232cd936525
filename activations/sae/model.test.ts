import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { auxTopk, DEFAULT_COEFFICIENTS, encodeDecode, lossAndGrad, topkInto, zeroGrads, type Sae, type SaeArch } from './model.ts';

function randomSae(arch: SaeArch, dIn: number, dSae: number, k: number, seed: number): Sae {
  const rng = new Rng(seed);
  const f = (n: number, s: number) => Float32Array.from({ length: n }, () => s * rng.normal());
  return {
    arch, dIn, dSae, k, W_enc: f(dIn * dSae, 0.7), b_enc: f(dSae, 0.3), W_dec: f(dSae * dIn, 0.7), b_dec: f(dIn, 0.3),
    ...(arch === 'jumprelu' ? { threshold: Float32Array.from({ length: dSae }, () => 0.2 + 0.3 * rng.next()) } : {}),
  };
}

const coef = { ...DEFAULT_COEFFICIENTS, l1: 0.05, l0: 0.05, bandwidth: 0.05, aux: 0.5 };

/** Central differences in float64 of the loss over every parameter; the code path must stay put. */
function checkGrads(arch: SaeArch, dead?: Uint8Array): void {
  const dIn = 5, dSae = 9, rows = 7;
  const sae = randomSae(arch, dIn, dSae, 3, 11);
  const rng = new Rng(5);
  const x = Float32Array.from({ length: rows * dIn }, () => rng.normal());
  const g = zeroGrads(sae);
  lossAndGrad(sae, x, rows, coef, g, dead);
  const h = 1e-3;
  let checked = 0;
  for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
    const p = sae[name];
    for (let t = 0; t < p.length; t++) {
      const v = p[t]!;
      p[t] = v + h;
      const up = lossAndGrad(sae, x, rows, coef, undefined, dead);
      p[t] = v - h;
      const dn = lossAndGrad(sae, x, rows, coef, undefined, dead);
      p[t] = v;
      // A perturbation that changes which latents are active makes the loss non-smooth: skip it.
      if (up.codes.idx.join() !== dn.codes.idx.join() || up.l0 !== dn.l0) continue;
      const fd = (up.loss - dn.loss) / (2 * h);
      expect(g[name][t]!).toBeCloseTo(fd, 2);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(60);
}

describe('sae gradients against central differences', () => {
  it('topk', () => checkGrads('topk'));
  it('relu-l1 (MSE + L1)', () => checkGrads('relu-l1'));
  it('jumprelu (W and b: the threshold is straight-through)', () => checkGrads('jumprelu'));
  it('topk with the AuxK loss on dead latents (the residual detached, as SAELens)', () => {
    // The residual x - x_hat is detached, so check the aux term alone, on parameters of dead latents that
    // no row selects (their W_dec rows, W_enc columns and b_enc enter the aux loss only): the aux part
    // of the gradient (with aux minus without) against central differences of the aux loss.
    const dead = Uint8Array.from({ length: 9 }, (_, j) => (j % 3 ? 1 : 0));
    const sae = randomSae('topk', 5, 9, 3, 11);
    const rng = new Rng(5);
    const rows = 2;
    const x = Float32Array.from({ length: rows * 5 }, () => rng.normal());
    const gA = zeroGrads(sae), g0 = zeroGrads(sae);
    const base = lossAndGrad(sae, x, rows, coef, gA, dead);
    lossAndGrad(sae, x, rows, { ...coef, aux: 0 }, g0, dead);
    expect(base.aux).toBeGreaterThan(0);
    const active = new Set(base.codes.idx);
    let checked = 0;
    const h = 1e-3;
    for (let j = 0; j < 9; j++) {
      if (!dead[j] || active.has(j)) continue;
      const slots: [Float32Array, Float32Array, Float32Array, number][] = [[sae.b_enc, gA.b_enc, g0.b_enc, j]];
      for (let i = 0; i < 5; i++) slots.push([sae.W_dec, gA.W_dec, g0.W_dec, j * 5 + i], [sae.W_enc, gA.W_enc, g0.W_enc, i * 9 + j]);
      for (const [p, ga, gz, t] of slots) {
        const v = p[t]!;
        p[t] = v + h;
        const up = lossAndGrad(sae, x, rows, coef, undefined, dead);
        p[t] = v - h;
        const dn = lossAndGrad(sae, x, rows, coef, undefined, dead);
        p[t] = v;
        if (up.codes.idx.join() !== dn.codes.idx.join()) continue;
        expect(ga[t]! - gz[t]!).toBeCloseTo((up.aux - dn.aux) / (2 * h), 2);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
  it('jumprelu threshold: the straight-through estimate, by hand', () => {
    // One row, one latent, d_in = 1: pre = (x - b_dec) w_enc + b_enc = 0.51 with threshold 0.5, bandwidth 0.1
    // -> |pre - th| / eps = 0.1 < 0.5, inside the rectangle; active (0.51 > 0.5), act = 0.51.
    const sae: Sae = { arch: 'jumprelu', dIn: 1, dSae: 1, k: 0, W_enc: Float32Array.of(1), b_enc: Float32Array.of(0.01), W_dec: Float32Array.of(2), b_dec: Float32Array.of(0), threshold: Float32Array.of(0.5) };
    const c = { ...coef, l0: 0.3, bandwidth: 0.1 };
    const g = zeroGrads(sae);
    const s = lossAndGrad(sae, Float32Array.of(0.5), 1, c, g);
    // x_hat = 2 * 0.51 = 1.02; e = 0.52; dL/dact = 2 e * w_dec = 2.08; dth = -(th/eps) * 2.08 - l0/eps
    expect(s.mse).toBeCloseTo(0.52 ** 2, 5);
    expect(s.penalty).toBeCloseTo(0.3, 6);
    expect(g.threshold[0]!).toBeCloseTo(-(0.5 / 0.1) * 2.08 - 0.3 / 0.1, 4);
  });
});

describe('AuxK selection', () => {
  it('the sorting path (k > 16) picks what the insertion path picks, ties to the lower index', () => {
    const rng = new Rng(9);
    const len = 300;
    const pre = Float32Array.from({ length: len }, () => Math.round(rng.normal() * 4) / 4); // many ties
    const dead = Uint8Array.from({ length: len }, () => (rng.next() < 0.6 ? 1 : 0));
    for (const k of [17, 40, 200, 300]) {
      const a = [new Int32Array(k), new Float32Array(k)] as const, b = [new Int32Array(k), new Float32Array(k)] as const;
      const na = auxTopk(pre, 0, len, k, dead, a[0], a[1]);
      const nb = topkInto(pre, 0, len, k, b[0], b[1], dead);
      expect(na).toBe(nb);
      expect([...a[0].subarray(0, na)]).toEqual([...b[0].subarray(0, nb)]);
    }
  });
});

describe('sae forward, by hand', () => {
  const W = (rows: number[][]) => Float32Array.from(rows.flat());
  it('topk keeps the k largest pre-activations, then ReLU', () => {
    // d_in 2, d_sae 4, W_enc = [[1,0,-1,0.5],[0,1,0,0.5]], b_enc = [0, 0, 0, -1], b_dec = 0; x = (3, 2)
    // pre = (3, 2, -3, 1.5); k = 2 -> latents 0 (3) and 1 (2)
    const sae: Sae = {
      arch: 'topk', dIn: 2, dSae: 4, k: 2, W_enc: W([[1, 0, -1, 0.5], [0, 1, 0, 0.5]]), b_enc: Float32Array.of(0, 0, 0, -1),
      W_dec: W([[1, 0], [0, 1], [-1, 0], [0.6, 0.8]]), b_dec: Float32Array.of(0, 0),
    };
    const { acts, recon } = encodeDecode(sae, Float32Array.of(3, 2), 1);
    expect([...acts]).toEqual([3, 2, 0, 0]);
    expect([...recon]).toEqual([3, 2]);
    // k = 3 with every other pre-activation negative: ReLU after top-k leaves fewer than k active.
    const neg = encodeDecode({ ...sae, k: 3 }, Float32Array.of(-3, -2), 1);
    expect([...neg.acts]).toEqual([0, 0, 3, 0]);
  });
  it('jumprelu zeroes pre-activations at or below the threshold and keeps the rest unchanged', () => {
    const sae: Sae = {
      arch: 'jumprelu', dIn: 1, dSae: 3, k: 0, W_enc: Float32Array.of(1, 1, 1), b_enc: Float32Array.of(0, -0.5, 0.25),
      W_dec: Float32Array.of(1, 1, 1), b_dec: Float32Array.of(0.5), threshold: Float32Array.of(0.5, 0.1, 0.75),
    };
    // x = 1.5: sae_in = 1; pre = (1, 0.5, 1.25); thresholds (0.5, 0.1, 0.75) -> all active
    expect([...encodeDecode(sae, Float32Array.of(1.5), 1).acts]).toEqual([1, 0.5, 1.25]);
    // x = 1.0: sae_in = 0.5; pre = (0.5, 0, 0.75): 0.5 <= 0.5 and 0.75 <= 0.75 are off, 0 <= 0.1 off
    expect([...encodeDecode(sae, Float32Array.of(1), 1).acts]).toEqual([0, 0, 0]);
  });
});

import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import type { ToyModel } from './config.ts';
import { allocBatch, densify, sampleInto, type SparseBatch } from './data.ts';
import { forward, lossAndGrad, workspace } from './kernels.ts';
import { initParams, layout, type ModelSpec } from './layout.ts';

function setup(model: ToyModel, tied: boolean, n: number, m: number, p: number, rows: number, seed: number) {
  const spec: ModelSpec = { model, n, m, tied };
  const rng = new Rng(seed);
  const params = initParams(spec, rng);
  // Non-zero biases so that both ReLU branches are exercised.
  const L = layout(spec);
  for (let j = 0; j < n; j++) params[L.bOut + j] = 0.2 * rng.normal();
  if (L.b1 >= 0) for (let k = 0; k < m; k++) params[L.b1 + k] = 0.2 * rng.normal();
  const batch = allocBatch(rows, n, p);
  sampleInto(batch, p, model === 'abs', rng);
  const imp = Float32Array.from({ length: n }, (_, i) => Math.pow(0.9, i));
  return { spec, params, batch, imp };
}

/** Loss with the output computed by the independent dense forward pass. */
function denseLoss(spec: ModelSpec, params: Float32Array, batch: SparseBatch, imp: Float32Array): number {
  const { x } = densify(batch);
  const out = new Float32Array(x.length);
  forward(spec, params, x, batch.rows, out);
  let loss = 0;
  for (let r = 0; r < batch.rows; r++) {
    for (let j = 0; j < spec.n; j++) {
      const t = spec.model === 'abs' ? Math.abs(x[r * spec.n + j]!) : x[r * spec.n + j]!;
      const d = out[r * spec.n + j]! - t;
      loss += imp[j]! * d * d;
    }
  }
  return loss / batch.rows;
}

const CASES: [ToyModel, boolean, 'rows' | 'gram' | 'dense'][] = [
  ['linear', false, 'rows'],
  ['linear', false, 'gram'],
  ['linear', false, 'dense'],
  ['relu-out', false, 'rows'],
  ['relu-out', false, 'gram'],
  ['relu-out', false, 'dense'],
  ['relu-hidden', false, 'rows'],
  ['relu-hidden', true, 'rows'],
  ['abs', false, 'rows'],
  ['abs', true, 'rows'],
];

describe('toy kernels', () => {
  for (const [model, tied, path] of CASES) {
    it(`${model}${tied ? ' (tied)' : ''} ${path}: gradient matches central finite differences`, () => {
      const { spec, params, batch, imp } = setup(model, tied, 7, 3, 0.4, 16, 11);
      const grad = new Float32Array(params.length);
      const ws = workspace(spec, path === 'gram');
      const loss = lossAndGrad(ws, params, grad, batch, imp, path);
      expect(loss).toBeCloseTo(denseLoss(spec, params, batch, imp), 5);
      const scratch = new Float32Array(params.length);
      let worst = 0;
      const gnorm = Math.sqrt(grad.reduce((a, g) => a + g * g, 0));
      for (let i = 0; i < params.length; i++) {
        const orig = params[i]!;
        const h = 1e-3;
        params[i] = orig + h;
        const up = params[i]! - orig;
        const lp = lossAndGrad(ws, params, scratch, batch, imp, path);
        params[i] = orig - h;
        const down = orig - params[i]!;
        const lm = lossAndGrad(ws, params, scratch, batch, imp, path);
        params[i] = orig;
        const fd = (lp - lm) / (up + down);
        worst = Math.max(worst, Math.abs(fd - grad[i]!));
      }
      // Kinks of the ReLUs make a few coordinates differ slightly at this step size; the bound is
      // relative to the whole gradient, which a wrong formula (sign, missing term) misses by far.
      expect(worst / gnorm).toBeLessThan(0.02);
    });
  }

  it('rows and gram paths give the same loss and gradient', () => {
    for (const model of ['linear', 'relu-out'] as const) {
      for (const p of [0.05, 0.5, 1]) {
        const { spec, params, batch, imp } = setup(model, false, 20, 5, p, 64, 3);
        const g1 = new Float32Array(params.length);
        const g2 = new Float32Array(params.length);
        const l1 = lossAndGrad(workspace(spec, false), params, g1, batch, imp, 'rows');
        const l2 = lossAndGrad(workspace(spec, true), params, g2, batch, imp, 'gram');
        expect(l2).toBeCloseTo(l1, 5);
        for (let i = 0; i < g1.length; i++) expect(g2[i]).toBeCloseTo(g1[i]!, 5);
      }
    }
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../lab/core/backend.ts';
import { Rng } from '../../lab/core/index.ts';
import { hasNeurons, type ToyModel } from './config.ts';
import { allocBatch, densify, sampleInto } from './data.ts';
import { lossAndGrad, workspace } from './kernels.ts';
import { initParams, layout, type ModelSpec } from './layout.ts';
import { tfLossAndGrads, trainTfjs } from './engine-tfjs.ts';
import { trainJs } from './engine-js.ts';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('tfjs engine agrees with the JS engine', () => {
  for (const [model, tied] of [['linear', false], ['relu-out', false], ['relu-hidden', false], ['relu-hidden', true], ['abs', false]] as [ToyModel, boolean][]) {
    it(`${model}${tied ? ' (tied)' : ''}: same losses and gradients on the same batch`, () => {
      const spec: ModelSpec = { model, n: 6, m: 3, tied };
      const I = 3;
      const rows = 32;
      const rng = new Rng(5);
      const L = layout(spec);
      const params = Array.from({ length: I }, () => {
        const p = initParams(spec, rng);
        for (let j = 0; j < spec.n; j++) p[L.bOut + j] = 0.1 * rng.normal();
        if (hasNeurons(model)) for (let k = 0; k < spec.m; k++) p[L.b1 + k] = 0.1 * rng.normal();
        return p;
      });
      const imp = Float32Array.from({ length: spec.n }, (_, i) => Math.pow(0.8, i));
      const x = new Float32Array(I * rows * spec.n);
      const batches = params.map((_, k) => {
        const b = allocBatch(rows, spec.n, 0.5);
        sampleInto(b, 0.5, model === 'abs', rng);
        x.set(densify(b).x, k * rows * spec.n);
        return b;
      });
      const tfRes = tfLossAndGrads(spec, params, x, rows, imp);
      params.forEach((p, k) => {
        const g = new Float32Array(p.length);
        const loss = lossAndGrad(workspace(spec, false), p, g, batches[k]!, imp, 'rows');
        expect(tfRes.loss[k]).toBeCloseTo(loss, 5);
        for (let i = 0; i < g.length; i++) expect(tfRes.grads[k]![i]).toBeCloseTo(g[i]!, 5);
      });
    });
  }

  it('a short training run follows the same trajectory on both engines', async () => {
    const job = {
      spec: { model: 'relu-out', n: 5, m: 2, tied: false } as ModelSpec,
      steps: 30,
      batch: 64,
      lr: 1e-2,
      weightDecay: 0.01,
      seed: 3,
      importance: Float32Array.from([1, 0.9, 0.81, 0.729, 0.6561]),
      instances: [0, 1],
      probs: [1, 0.2],
      chunk: 10,
    };
    const a = trainJs(job);
    const b = await trainTfjs(job);
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < a[k]!.params.length; i++) expect(b[k]!.params[i]).toBeCloseTo(a[k]!.params[i]!, 3);
    }
  });
});

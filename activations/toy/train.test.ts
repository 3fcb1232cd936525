import { describe, expect, it } from 'vitest';
import { trainJs } from './engine-js.ts';
import { trainJsParallel } from './engine-pool.ts';
import { trainToy } from './train.ts';

describe('trainToy', () => {
  it('a short run lowers the loss and keeps sum C_i <= m', async () => {
    const untrained = await trainToy({ model: 'relu-out', features: 5, hidden: 2, instances: 2, feature_prob: [1, 0.1], steps: 0, engine: 'js' });
    const trained = await trainToy({ model: 'relu-out', features: 5, hidden: 2, instances: 2, feature_prob: [1, 0.1], steps: 400, lr: 1e-2, engine: 'js' });
    expect(trained.engine).toBe('js');
    trained.instances.forEach((inst, k) => {
      expect(inst.loss).toBeLessThan(0.8 * untrained.instances[k]!.loss);
      expect(inst.total_capacity).toBeLessThanOrEqual(2 + 1e-9);
      expect(inst.W).toHaveLength(5);
      expect(inst.W[0]).toHaveLength(2);
    });
    expect(trained.instances[1]!.feature_prob).toBeCloseTo(0.1, 12);
  });

  it('relu-hidden reports W1, W2 and a label per neuron', async () => {
    const r = await trainToy({ model: 'relu-hidden', features: 6, hidden: 3, feature_prob: 0.2, steps: 100, engine: 'js' });
    const inst = r.instances[0]!;
    expect(inst.W1).toHaveLength(3);
    expect(inst.W1![0]).toHaveLength(6);
    expect(inst.W2).toHaveLength(6);
    expect(inst.neurons).toHaveLength(3);
    for (const nr of inst.neurons!) expect(['mono', 'poly', 'dead']).toContain(nr.label);
    // W is W1 transposed.
    expect(inst.W[4]![2]).toBe(inst.W1![2]![4]);
  });

  it('splitting instances across worker threads gives bit-identical weights', async () => {
    const job = {
      spec: { model: 'relu-out' as const, n: 8, m: 3, tied: false },
      steps: 60,
      batch: 128,
      lr: 1e-3,
      weightDecay: 0.01,
      seed: 9,
      importance: new Float32Array(8).fill(1),
      instances: [0, 1, 2],
      probs: [1, 0.3, 0.05],
    };
    const one = trainJs(job);
    const two = await trainJsParallel(job, 2);
    expect(two.map((r) => r.instance)).toEqual([0, 1, 2]);
    two.forEach((r, k) => expect(Array.from(r.params)).toEqual(Array.from(one[k]!.params)));
  });

  it('a learning rate that blows up fails with a NumericError naming --lr', async () => {
    await expect(trainToy({ model: 'linear', features: 5, hidden: 2, steps: 200, lr: 1e38, engine: 'js' })).rejects.toThrow(/--lr/);
  });
});

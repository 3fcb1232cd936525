import { describe, expect, it } from 'vitest';
import { initBackend, tf } from './backend.ts';

describe('backend', () => {
  it('picks the first available backend in order and reports every candidate', async () => {
    const r = await initBackend();
    expect(r.candidates.map((c) => c.name)).toEqual(['node-gpu', 'node', 'wasm', 'cpu']);
    const firstAvailable = r.candidates.find((c) => c.available)!.name;
    expect(r.active).toBe(firstAvailable);
    for (const c of r.candidates) if (!c.available) expect(c.detail.length).toBeGreaterThan(0);
  });

  it('can be forced, and computes the same matmul on cpu and the default backend', async () => {
    const a = [[1, 2], [3, 4]];
    await initBackend();
    const x = tf.matMul(tf.tensor2d(a), tf.tensor2d(a)).arraySync();
    const r = await initBackend('cpu');
    expect(r.active).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.matMul(tf.tensor2d(a), tf.tensor2d(a)).arraySync()).toEqual(x);
    expect(x).toEqual([[7, 10], [15, 22]]);
  });

  it('rejects an unknown backend name', async () => {
    await expect(initBackend('tpu')).rejects.toThrow(/must be one of node-gpu, node, wasm, cpu/);
  });
});

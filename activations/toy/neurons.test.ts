import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { allocBatch, densify, sampleInto } from './data.ts';
import { DEAD_ACT, neuronLabels } from './neurons.ts';

describe('neuronLabels (expected responses on the instance data)', () => {
  it('one feature alone: the closed forms r = E ReLU(b + w u) - ReLU(b), P(fire), E[h]', () => {
    const [l] = neuronLabels('relu-hidden', [[1]], [0], 0.2);
    expect(l!.responses[0]).toBeCloseTo(0.5, 12);
    expect(l!.fire_prob).toBeCloseTo(0.2 * (1 - DEAD_ACT), 12);
    expect(l!.mean_activation).toBeCloseTo(0.1, 12);
    expect(l).toMatchObject({ label: 'mono', features: [0] });
    // abs: u ~ U[-1, 1], E ReLU(0.5 + u) = 1.5^2 / 4.
    const [a] = neuronLabels('abs', [[1]], [0.5], 0.2);
    expect(a!.responses[0]).toBeCloseTo(1.5 ** 2 / 4 - 0.5, 12);
  });

  it('one positive weight and zero bias is mono; two equal weights are poly; a large negative bias is dead', () => {
    const W1 = [
      [1, 0, -0.5],
      [0.7, 0.7, 0],
      [1, 1, 0],
    ];
    for (const p of [0.3, 0.05, 0.01]) {
      const l = neuronLabels('relu-hidden', W1, [0, 0, -3], p);
      expect(l.map((x) => x.label)).toEqual(['mono', 'poly', 'dead']);
      expect(l[0]!.features).toEqual([0]);
      expect(l[0]!.shares).toEqual([1, 0, 0]); // a zero or negative weight never raises the neuron
      expect(l[1]!.shares[0]).toBeCloseTo(0.5, 2);
      expect(l[2]!.fire_prob).toBe(0);
    }
  });

  it('a weak feature that cannot beat the bias alone does not make a neuron poly (validation example)', () => {
    // W1 = (.., 0.206, 0.058, ..), b = -0.167: the max-reach rule gave poly {2, 3} (share 0.78 on 2).
    // Feature 3 only adds to the activation when feature 2 is on too, so its response grows with p.
    const W1 = [[-0.4, 0, 0.206, 0.058, -0.1]];
    const share3 = [0.01, 0.05, 0.128, 0.3].map((p) => {
      const [l] = neuronLabels('relu-hidden', W1, [-0.167], p);
      if (p <= 0.128) expect(l).toMatchObject({ label: 'mono', features: [2] });
      return l!.shares[3]!;
    });
    expect(share3[0]).toBeLessThan(0.05);
    for (let i = 1; i < share3.length; i++) expect(share3[i]).toBeGreaterThan(share3[i - 1]!);
    // At p = 0.3 the coincidences are common enough that feature 3 carries > 20% of the response: poly.
    expect(neuronLabels('relu-hidden', W1, [-0.167], 0.3)[0]!.label).toBe('poly');
  });

  it('a neuron driven by coincidences: poly when they are common, dead when they are rare (closed forms)', () => {
    // h = ReLU(0.3 u0 + 0.3 u1 - 0.4) fires only when both are on: E[h | both] = 0.3 E[(u0 + u1 - 4/3)+] = 0.3 * 4/81.
    const W1 = [[0.3, 0.3]];
    const [dense] = neuronLabels('relu-hidden', W1, [-0.4], 0.5);
    expect(dense!.label).toBe('poly');
    expect(dense!.responses[0]).toBeCloseTo(0.5 * 0.3 * (4 / 81), 3);
    const t = 2 - (0.4 + DEAD_ACT) / 0.3;
    expect(dense!.fire_prob).toBeCloseTo(0.25 * (t * t) / 2, 2);
    const [sparse] = neuronLabels('relu-hidden', W1, [-0.4], 0.01);
    expect(sparse!.fire_prob).toBeLessThan(1e-4);
    expect(sparse!.label).toBe('dead');
  });

  it('abs counts both signs (inputs span [-1, 1])', () => {
    const W1 = [[-2, 0.1], [-1, 1]];
    const labels = neuronLabels('abs', W1, [0, 0], 0.1);
    expect(labels[0]).toMatchObject({ label: 'mono', features: [0] });
    expect(labels[1]!.label).toBe('poly');
    expect(neuronLabels('relu-hidden', W1, [0, 0], 0.1)[0]).toMatchObject({ label: 'mono', features: [1] });
  });

  it('a constant neuron carries no feature; p = 0 leaves every neuron dead; p = 1 works', () => {
    expect(neuronLabels('relu-hidden', [[0, 0]], [0.5], 0.3)[0]!.label).toBe('dead');
    expect(neuronLabels('relu-hidden', [[1, 0.2]], [0], 0).map((l) => l.label)).toEqual(['dead']);
    const [full] = neuronLabels('relu-hidden', [[1, 1]], [-1.5], 1);
    expect(full!.fire_prob).toBeCloseTo(0.125 * (1 - DEAD_ACT / 0.5) ** 2, 2);
    expect(full!.label).toBe('poly');
  });

  it('agrees with mean differences and firing rates measured on samples of the toy data generator', () => {
    const rng = new Rng(7);
    const n = 5;
    const W1 = Array.from({ length: 6 }, () => Array.from({ length: n }, () => rng.normal() * 0.5));
    const b1 = Array.from({ length: 6 }, () => -0.3 * rng.next());
    for (const [model, p] of [['relu-hidden', 0.2], ['abs', 0.1]] as const) {
      const labels = neuronLabels(model, W1, b1, p);
      const rows = 200_000;
      const batch = allocBatch(rows, n, p);
      sampleInto(batch, p, model === 'abs', new Rng(11));
      const { x, active } = densify(batch);
      W1.forEach((w, k) => {
        const sumOn = new Float64Array(n);
        const cntOn = new Float64Array(n);
        let sum = 0;
        let fired = 0;
        for (let r = 0; r < rows; r++) {
          let s = b1[k]!;
          for (let j = 0; j < n; j++) s += w[j]! * x[r * n + j]!;
          const h = Math.max(0, s);
          sum += h;
          if (h > DEAD_ACT) fired++;
          for (let j = 0; j < n; j++) if (active[r * n + j]) { sumOn[j] += h; cntOn[j]++; }
        }
        const l = labels[k]!;
        expect(Math.abs(fired / rows - l.fire_prob)).toBeLessThan(4e-3);
        expect(Math.abs(sum / rows - l.mean_activation)).toBeLessThan(4e-3);
        for (let j = 0; j < n; j++) {
          const r = sumOn[j]! / cntOn[j]! - (sum - sumOn[j]!) / (rows - cntOn[j]!);
          expect(Math.abs(r - l.responses[j]!)).toBeLessThan(0.01);
        }
      });
    }
  });
});

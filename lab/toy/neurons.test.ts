import { describe, expect, it } from 'vitest';
import { neuronLabels } from './neurons.ts';

describe('neuronLabels', () => {
  it('labels mono, poly and dead neurons of a relu-hidden model from their weights', () => {
    const W1 = [
      [2, 0.1, -3], // mono on feature 0: share 2/2.1
      [1, 1, 0], // poly on 0 and 1
      [1, 1, 0], // cannot fire: bias -3 exceeds the largest input 2
      [-1, -2, -0.5], // no positive weight: never fires on x >= 0
      [0, 0, 0], // constant (bias 0.5): carries no feature
    ];
    const b1 = [0, -0.2, -3, 1e-4, 0.5];
    const labels = neuronLabels('relu-hidden', W1, b1);
    expect(labels.map((l) => l.label)).toEqual(['mono', 'poly', 'dead', 'dead', 'dead']);
    expect(labels[0]!.features).toEqual([0]);
    expect(labels[0]!.max_share).toBeCloseTo(2 / 2.1, 12);
    expect(labels[1]!.features).toEqual([0, 1]);
    expect(labels[1]!.shares).toEqual([0.5, 0.5, 0]);
    expect(labels[2]!.max_activation).toBe(0);
  });

  it('abs counts negative weights as reach (inputs span [-1, 1])', () => {
    const W1 = [[-2, 0.1], [-1, 1]];
    const labels = neuronLabels('abs', W1, [0, 0]);
    expect(labels[0]).toMatchObject({ label: 'mono', features: [0] });
    expect(labels[1]!.label).toBe('poly');
    // In relu-hidden the same first neuron only responds to feature 1 (its one positive weight).
    expect(neuronLabels('relu-hidden', W1, [0, 0])[0]).toMatchObject({ label: 'mono', features: [1] });
  });

  it('the feature set is the smallest one covering 80% of the input mass', () => {
    const [l] = neuronLabels('relu-hidden', [[0.5, 0.3, 0.15, 0.05]], [0]);
    expect(l!.label).toBe('poly');
    expect(l!.features).toEqual([0, 1]);
    const [m] = neuronLabels('relu-hidden', [[0.8, 0.1, 0.1]], [0]);
    expect(m!.label).toBe('mono');
  });
});

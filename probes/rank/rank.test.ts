import { describe, expect, it } from 'vitest';
import { rankNeurons } from './rank-neurons.ts';
import { loadSklearnRef } from '../testdata/load.ts';

const { ref, train } = loadSklearnRef();

describe('nested rankings agree with scikit-learn', () => {
  it('mean_dif scores and order', () => {
    const r = rankNeurons('mean_dif', train.X, train.y);
    ref.mean_dif.forEach((v, j) => expect(r.scores[j]!).toBeCloseTo(v, 10));
    expect(Array.from(r.order)).toEqual(ref.mean_dif_order);
  });
  it('f_stat scores (f_classif) and order', () => {
    const r = rankNeurons('f_stat', train.X, train.y);
    ref.f_stat.forEach((v, j) => expect(Math.abs(r.scores[j]! - v)).toBeLessThan(1e-8 * (1 + v)));
    expect(Array.from(r.order)).toEqual(ref.f_stat_order);
  });
});

describe('rankNeurons input checks', () => {
  it('names the row and column of a NaN', () => {
    const data = new Float32Array(train.X.data);
    data[5 * train.X.nCols + 7] = NaN;
    expect(() => rankNeurons('mean_dif', { ...train.X, data }, train.y)).toThrow(/NaN at row 5, column \(neuron\) 7/);
  });
  it('rejects a single-class label and an unknown method', () => {
    expect(() => rankNeurons('f_stat', train.X, new Uint8Array(train.y.length).fill(1))).toThrow(/only one class/);
    expect(() => rankNeurons('nope' as never, train.X, train.y)).toThrow(/unknown ranking method/);
  });
});

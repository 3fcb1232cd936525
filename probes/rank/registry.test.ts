import { describe, expect, it } from 'vitest';
import { checkRankMethods, prepareRanking, rankNeurons } from './rank-neurons.ts';
import { BUILT_IN_RANK_METHODS } from './methods.ts';
import { defineRankMethod, nestedRanking, rankMethodNames, registerRankMethod } from './registry.ts';
import { loadSklearnRef } from '../testdata/load.ts';

const { train } = loadSklearnRef();

describe('ranking-method registry', () => {
  it('lists the built-in methods in their order', () => {
    expect(rankMethodNames().slice(0, 6)).toEqual(['mean_dif', 'f_stat', 'mi', 'l1', 'adaptive', 'osp']);
    expect(BUILT_IN_RANK_METHODS).toEqual(rankMethodNames().slice(0, 6));
  });

  it('takes a new method in one call: validation, prepare and rankNeurons know it', async () => {
    let prepared = 0;
    // Ranks neurons by their column index backwards: trivially checkable.
    registerRankMethod(defineRankMethod({
      name: 'test_reverse', summary: 'last column first (a test method)',
      prepare: async () => void prepared++,
      rank: (X) => nestedRanking(Float64Array.from({ length: X.nCols }, (_, j) => j)),
    }));
    expect(rankMethodNames()).toContain('test_reverse');
    expect(checkRankMethods(['mean_dif', 'test_reverse'])).toEqual(['mean_dif', 'test_reverse']);
    await prepareRanking(['test_reverse', 'test_reverse']);
    expect(prepared).toBe(1);
    const r = rankNeurons('test_reverse' as never, train.X, train.y);
    expect(r.order[0]).toBe(train.X.nCols - 1);
    expect(() => checkRankMethods(['test_revers'], 'methods')).toThrow(/--methods: unknown method 'test_revers' \(one of mean_dif, .*, osp, test_reverse\)/);
  });

  it('refuses a name registered twice, and a name that is not snake_case', () => {
    expect(() => registerRankMethod({ name: 'mean_dif', summary: 'again', rank: () => { throw new Error('unused'); } }))
      .toThrow(/ranking method 'mean_dif' is already registered/);
    expect(() => registerRankMethod({ name: 'Mean-Dif', summary: 'x', rank: () => { throw new Error('unused'); } })).toThrow(/snake_case/);
  });
});

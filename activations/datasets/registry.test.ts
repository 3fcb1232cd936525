import { describe, expect, it } from 'vitest';
import { BUILT_IN_DATASETS, checkDatasetName, datasetNames, defineDataset, gpt2Tokenizer, makeDataset, packedDataset, registerDataset, sequenceLevelDatasets } from './index.ts';

describe('dataset registry', () => {
  it('lists the built-in datasets in their order, with their levels', () => {
    const builtIn = ['brown-pos', 'brown-genre', 'text-props', 'compound-words', 'udhr-lang', 'token-props', 'affixes', 'compound-bigrams'];
    expect(datasetNames().slice(0, builtIn.length)).toEqual(builtIn);
    expect(BUILT_IN_DATASETS).toEqual(builtIn);
    expect(sequenceLevelDatasets()).toEqual(['brown-genre', 'udhr-lang']);
  });

  it('takes a new dataset in one call: makeDataset builds it and validation accepts it', () => {
    // One document of two sentences; a token is labelled 'has_x' when its text holds an x.
    registerDataset(defineDataset({
      name: 'test-x', summary: 'tokens holding an x (a test dataset)', level: 'token',
      build: (tok, opts) => packedDataset(tok, {
        name: 'test-x', level: 'token', features: ['has_x'], config: {},
        docs: () => [{ index: 0, name: 'd0', sentences: () => [{ text: 'The fox ran.' }, { text: 'A box sat.' }] }],
        tokenLabels: (_s, enc, text) => ({ has_x: Uint8Array.from(enc.ids, (_, i) => (text.slice(enc.start[i]!, enc.end[i]!).includes('x') ? 1 : 0)) }),
      }, opts),
    }));
    expect(() => checkDatasetName('test-x')).not.toThrow();
    const seqs = [...makeDataset('test-x', gpt2Tokenizer(), { context: 32, seed: 0 }).sequences()];
    expect(seqs).toHaveLength(1);
    const labels = seqs[0]!.tokenLabels!.has_x!;
    expect(Array.from(labels).reduce((a: number, b: number) => a + b, 0)).toBe(2); // ' fox' and ' box'
    expect(() => checkDatasetName('test-y')).toThrow(/--dataset must be one of brown-pos, .*compound-bigrams, test-x; got 'test-y'/);
  });

  it('refuses a name registered twice', () => {
    expect(() => registerDataset({ name: 'brown-pos', summary: 'again', level: 'token', build: () => { throw new Error('unused'); } }))
      .toThrow(/dataset 'brown-pos' is already registered/);
  });
});

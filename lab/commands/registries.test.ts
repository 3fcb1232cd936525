/**
 * The registries are what the commands read: a kind registered before a command loads shows up in its
 * help and passes its validation, with nothing else edited (ADDING_A_RANKING_METHOD.md,
 * ADDING_A_DATASET.md, ADDING_AN_ARCHITECTURE.md). The commands load lazily on first use, so
 * registering here, before the first runLab, is "before the command loads".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gpt2Architecture, registerArchitecture, registerDataset } from '../../activations/index.ts';
import { nestedRanking, registerRankMethod } from '../../probes/index.ts';
import { runLab } from '../cli-test-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lab-registries-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

registerRankMethod({ name: 'test_dummy', summary: 'a test method', rank: (X) => nestedRanking(new Float64Array(X.nCols)) });
registerDataset({ name: 'test-dummy', summary: 'a test dataset', level: 'token', build: () => { throw new Error('not built in this test'); } });
registerArchitecture({ ...gpt2Architecture, name: 'test-dummy-arch', modelTypes: ['test_dummy_arch'], summary: 'a test architecture' });

describe('commands read the registries', () => {
  it('lab probe, classify and demo list a registered ranking method and accept it', async () => {
    for (const cmd of ['probe', 'classify', 'demo']) expect((await runLab(cmd, '--help')).out).toMatch(/osp,test_dummy/);
    const bad = await runLab('probe', '--activations', join(tmp, 'none'), '--out', join(tmp, 'p'), '--methods', 'test_dumy');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--methods: unknown method 'test_dumy' \(one of mean_dif, f_stat, mi, l1, adaptive, osp, test_dummy\)/);
    // Accepted: the run gets past flag validation and fails on the missing store instead.
    const ok = await runLab('probe', '--activations', join(tmp, 'none'), '--out', join(tmp, 'p'), '--methods', 'test_dummy');
    expect(ok.err).not.toMatch(/unknown method/);
    expect(ok.err).toMatch(/none/);
  });

  it('lab harvest lists a registered dataset and model_type and accepts the dataset', async () => {
    const help = (await runLab('harvest', '--help')).out;
    expect(help).toMatch(/brown-pos, brown-genre, text-props, compound-words, udhr-lang, token-props, affixes, compound-bigrams, test-dummy/);
    expect(help).toMatch(/model_type gpt2, gpt_neox, llama, mistral, qwen2, gpt_neo, gptj, opt, gemma, gemma2, test_dummy_arch/);
    const bad = await runLab('harvest', '--model', join(tmp, 'm'), '--dataset', 'test-dumy', '--out', join(tmp, 'h'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--dataset must be one of brown-pos, brown-genre, text-props, compound-words, udhr-lang, token-props, affixes, compound-bigrams, test-dummy; got 'test-dumy'/);
    const ok = await runLab('harvest', '--model', join(tmp, 'm'), '--dataset', 'test-dummy', '--out', join(tmp, 'h'));
    expect(ok.err).not.toMatch(/--dataset must be/);
    expect(ok.err).toMatch(/does not exist/);
  });
});

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainToy, writeToyRun } from '../../activations/toy/index.ts';
import { harvestToy } from '../../activations/index.ts';
import { runLab } from '../cli-test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'probe-cli-'));
const acts = join(dir, 'acts');

beforeAll(async () => {
  const toy = await trainToy({ model: 'relu-hidden', features: 4, hidden: 3, instances: 2, feature_prob: [0.2, 0.05], steps: 300, seed: 0, engine: 'js' });
  writeToyRun(join(dir, 'toy'), toy);
  await harvestToy(join(dir, 'toy'), { out: acts, seed: 0, maxTokens: 3000, silent: true });
});

const lab = runLab;

afterEach(() => vi.restoreAllMocks());

describe('lab probe / lab classify', () => {
  it('sweeps, resumes as a no-op, refuses a different config, and classifies against the toy truth', async () => {
    const p = join(dir, 'probe');
    const args = ['probe', '--activations', acts, '--methods', 'mean_dif,f_stat', '--out', p, '--quiet', '--json'];
    const first = await lab(...args);
    expect(first.code).toBe(0);
    const s1 = JSON.parse(first.out);
    // 2 hooks (instances) x 4 features x 2 methods; default k list clipped to 3 neurons.
    expect(s1.computed_units).toBe(16);
    expect(s1.probes + s1.skipped_units + s1.failed_units).toBe(s1.rows);
    const csv = readFileSync(join(p, 'sweep.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('feature,hook,method,k,f1,mcc,precision,recall,accuracy,roc_auc,pr_auc,neurons,coefs,intercept,n_train,n_test,n_pos_train,n_pos_test,converged,optimality_gap,status,skip_reason,contrast');

    const again = JSON.parse((await lab(...args)).out);
    expect([again.resumed_units, again.computed_units]).toEqual([16, 0]);
    expect(readFileSync(join(p, 'sweep.csv'), 'utf8')).toBe(csv);

    const other = await lab(...args, '--seed', '1');
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/different config \(seed\)/);
    const wide = await lab('probe', '--activations', acts, '--k', '1,4', '--out', join(dir, 'wide'), '--quiet');
    expect(wide.code).toBe(2);
    expect(wide.err).toMatch(/--k 4 exceeds the 3 neurons of hook 'instance\.0\./);

    const c = join(dir, 'classify');
    const cls = await lab('classify', '--probes', p, '--json', '--rotations', '1', '--out', c, '--quiet');
    expect(cls.code).toBe(0);
    const res = JSON.parse(cls.out);
    expect(res.neurons.length).toBe(6);
    expect(res.toy.n_neurons).toBe(6);
    const total = Object.values(res.toy.confusion as Record<string, Record<string, number>>)
      .flatMap((r) => Object.values(r)).reduce((a, b) => a + b, 0);
    expect(total).toBe(6);
    for (const f of ['features.csv', 'neurons.csv', 'selectivity.csv', 'classify.json']) expect(existsSync(join(c, f))).toBe(true);
    expect(readFileSync(join(c, 'neurons.csv'), 'utf8').split('\n')[0]).toMatch(/^hook,neuron,label,truth_label,features,selectivity,/);
  });

  it('names a missing flag', async () => {
    const r = await lab('probe', '--out', join(dir, 'x'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--activations is required/);
  });

  it('refuses --contrast hard-negatives on a store without hard-negative columns, and with --queue', async () => {
    const r = await lab('probe', '--activations', acts, '--contrast', 'hard-negatives', '--out', join(dir, 'hard'), '--quiet');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--contrast hard-negatives: hook 'instance\.0\.[^']*' in .* has no feature with hard-negative columns/);
    expect(existsSync(join(dir, 'hard', 'manifest.json'))).toBe(false);
    const q = await lab('probe', '--activations', acts, '--contrast', 'hard-negatives', '--queue', 'redis://127.0.0.1:1', '--out', join(dir, 'hardq'));
    expect(q.code).toBe(2);
    expect(q.err).toMatch(/--contrast hard-negatives does not run on --queue/);
    const bad = await lab('probe', '--activations', acts, '--contrast', 'hard', '--out', join(dir, 'hardb'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--contrast must be one of all, hard-negatives; got 'hard'/);
  });
});

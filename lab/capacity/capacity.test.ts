/**
 * lab capacity end to end on a tiny random GPT-2: harvest -> probe -> classify -> capacity, then the
 * properties the table must have, resume and refusal, and every bad input named (another model's store,
 * a hook the model lacks, a feature without positives in the evaluation text).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ablateNeurons, harvestModel, loadModel, makeDataset, writeRandomCheckpoint, type LanguageModel } from '../../activations/index.ts';
import { classifyProbeRun, labEngine, readSweep, runSweep, storeSource, writeClassifyRun, type SweepConfig } from '../../probes/index.ts';
import { runLab } from '../cli-test-support.ts';
import { initBackend } from '../core/backend.ts';
import { readManifest } from '../core/index.ts';
import { CAPACITY_COLUMNS, planCapacity, runCapacity } from './index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'capacity-test-'));
const modelDir = join(tmp, 'tiny');
const otherDir = join(tmp, 'other');
const probeDir = join(tmp, 'probe');
const classifyDir = join(tmp, 'classify');
let model: LanguageModel;
const spec = { architecture: 'gpt2', nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 280, contextLength: 64, std: 0.3 } as const;

beforeAll(async () => {
  await initBackend();
  writeRandomCheckpoint(modelDir, { ...spec, seed: 3 });
  writeRandomCheckpoint(otherDir, { ...spec, seed: 4 });
  model = await loadModel(modelDir);
  const store = join(tmp, 'store');
  await harvestModel(model, makeDataset('text-props', model.tokenizer, { context: 64, seed: 0 }), ['blocks.*.mlp.hook_post'], { out: store, seed: 0, maxTokens: 3000, silent: true });
  const source = storeSource(store);
  const config: SweepConfig = {
    activations: source.dir, features: 'all', hooks: '*', methods: ['mean_dif', 'f_stat'], ks: [1, 2, 4, 8], ksExplicit: false,
    testFrac: 0.3, seed: 0, minPosTrain: 5, minPosTest: 2, fit: { C: 1, classWeight: 'balanced', fitter: 'newton' },
  };
  const engine = labEngine();
  await runSweep(config, { outDir: probeDir, source, engine, silent: true, restart: true });
  const res = classifyProbeRun(probeDir, { source, engine }, { rotations: 0, seed: 0 });
  writeClassifyRun(classifyDir, res, { seed: 0, config: { probes: resolve(probeDir), rotations: 0 } });
}, 240_000);
afterAll(() => {
  model?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('runCapacity', () => {
  it('writes one row per classified feature and hook, with the importances the ablations define', () => {
    const out = join(tmp, 'cap');
    const r = runCapacity(model, { probeDir, classifyDir, out, evalBytes: 600, seed: 0, reps: 50 });
    const classify = JSON.parse(readFileSync(join(classifyDir, 'classify.json'), 'utf8')) as { features: Array<{ feature: string; hook: string; status: string }> };
    const ok = classify.features.filter((f) => f.status === 'ok');
    expect(ok.length).toBeGreaterThan(3);
    expect(r.rows.map((x) => `${x.hook}/${x.feature}`).sort()).toEqual(ok.map((f) => `${f.hook}/${f.feature}`).sort());
    const csv = readFileSync(join(out, 'capacity.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe(CAPACITY_COLUMNS.join(','));
    for (const x of r.rows) {
      for (const v of [x.importance, x.importance_k1, x.importance_kstar, x.frequency, x.capacity, x.mono_share]) expect(Number.isFinite(v)).toBe(true);
      expect(x.mono_share).toBeGreaterThanOrEqual(0);
      expect(x.mono_share).toBeLessThanOrEqual(1);
      expect(x.frequency).toBeGreaterThan(0);
      if (x.k_star === 1) expect(x.importance_kstar).toBe(x.importance_k1);
    }
    // importance_k1 is exactly `lab ablate --mode mean` of the 1-sparse probe's neuron over the evaluation text.
    const plan = planCapacity(model, { probeDir, classifyDir, evalBytes: 600 });
    const row = r.rows[0]!;
    const k1 = readSweep(probeDir).rows.filter((s) => s.hook === row.hook && s.feature === row.feature && s.k === 1 && s.status === 'ok')
      .reduce((a, b) => (b.f1! > a.f1! ? b : a));
    const direct = ablateNeurons(model, plan.evalText.text, { hook: row.hook, neurons: k1.neurons, mode: 'mean' });
    expect(Math.abs(direct.delta_bits_per_byte - row.importance_k1)).toBeLessThan(1e-9);
    // Not vacuous: a random model still loses or gains something when a direction is removed.
    expect(r.rows.some((x) => Math.abs(x.importance) > 1e-6)).toBe(true);
    // Summary: both x's per hook and pooled, rho within [-1, 1] and inside its interval.
    expect(r.summary.map((s) => `${s.scope}:${s.x}`)).toEqual([...new Set(r.rows.map((x) => x.hook)), 'pooled'].flatMap((h) => [`${h}:capacity`, `${h}:mono_share`]));
    for (const s of r.summary.filter((q) => Number.isFinite(q.rho))) {
      expect(Math.abs(s.rho)).toBeLessThanOrEqual(1);
      expect(s.lo).toBeLessThanOrEqual(s.rho + 1e-12);
      expect(s.hi).toBeGreaterThanOrEqual(s.rho - 1e-12);
    }
    const m = readManifest(out);
    expect(m.kind).toBe('capacity');
    expect(m.seed).toBe(0);
    expect((m.config as { model_checksum: string }).model_checksum).toBe(model.source.checksum);

    // A rerun resumes every hook and writes the same table; another config is refused.
    const again = runCapacity(model, { probeDir, classifyDir, out, evalBytes: 600, seed: 0, reps: 50 });
    expect(again.resumed_hooks).toBe(2);
    expect(readFileSync(join(out, 'capacity.csv'), 'utf8')).toBe(csv);
    expect(() => runCapacity(model, { probeDir, classifyDir, out, evalBytes: 700, seed: 0, reps: 50 })).toThrow(/different config.*eval_bytes/);
  }, 240_000);

  it('names a store harvested from another model', async () => {
    const other = await loadModel(otherDir);
    try {
      expect(() => runCapacity(other, { probeDir, classifyDir, out: join(tmp, 'x1'), evalBytes: 600, seed: 0 }))
        .toThrow(new RegExp(`store .* came from the model in .*tiny.*not from --model .*other`));
    } finally {
      other.dispose();
    }
  });

  it('names a feature with no positive in a strict evaluation text', () => {
    expect(() => runCapacity(model, { probeDir, classifyDir, out: join(tmp, 'x2'), evalBytes: 1, evalStrict: true, seed: 0 }))
      .toThrow(/feature.* '[a-z_]+'.* on hook 'blocks\.0\.mlp\.hook_post' ha(s|ve) no positive in the first 1 bytes of held-out text/);
  });

  it('lab capacity: a hook the model lacks is a usage error naming it (exit 2), and a good run prints the correlations', async () => {
    const bad = await runLab('capacity', '--model', modelDir, '--probes', probeDir, '--classify', classifyDir, '--out', join(tmp, 'x3'), '--hooks', 'blocks.7.mlp.hook_post');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--hooks: 'blocks\.7\.mlp\.hook_post' is not a hook of the model/);
    const missing = await runLab('capacity', '--model', modelDir, '--classify', classifyDir, '--out', join(tmp, 'x4'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--probes/);
    const good = await runLab('capacity', '--model', modelDir, '--probes', probeDir, '--classify', classifyDir, '--out', join(tmp, 'x5'), '--hooks', 'blocks.1.mlp.hook_post', '--eval-bytes', '400', '--reps', '20', '--quiet');
    expect(good.code, good.err).toBe(0);
    expect(good.out).toMatch(/lm  blocks\.1\.mlp\.hook_post +rho\(importance, capacity +\)/);
  }, 120_000);
});

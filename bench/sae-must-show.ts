/**
 * The SAE issue's "must show" on toy models (minutes, so not a unit test):
 *   npx tsx bench/sae-must-show.ts [--features 20] [--hidden 10] [--probs 0.05:0.005] [--instances 4]
 *        [--latents 40] [--k 2] [--arch topk] [--sae-steps 3000] [--rows 50000] [--out DIR]
 * Trains relu-out toys (n features in m dims, importance 0.9^i) at several feature probabilities,
 * harvests each instance's hidden layer into a store, trains an SAE per instance on it, and scores the
 * decoder rows against the toy's W: MMCS, Hungarian score, features above 0.9, and the worst feature
 * among those with importance above the median. Prints a markdown table (MMCS against sparsity) and
 * exits non-zero when a check fails (MMCS >= 0.95, every above-median feature above 0.9).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../lab/commands/args.ts';
import { harvestToy, openActivationStore, trainSae, defaultSaeConfig, readSae, evaluateSae, SAE_ARCHS } from '../activations/index.ts';
import { parseFeatureProb, trainToy, writeToyRun } from '../activations/toy/index.ts';

const { flags: f } = parseFlags(process.argv.slice(2), {
  features: { type: 'int', min: 2, default: 20, help: 'n' },
  hidden: { type: 'int', min: 1, default: 10, help: 'm' },
  probs: { type: 'string', default: '0.05:0.005', help: 'feature probabilities a:b across instances' },
  instances: { type: 'int', min: 1, default: 4, help: 'toy instances (one feature probability each)' },
  'toy-steps': { type: 'int', min: 1, default: 10000, help: 'toy training steps' },
  rows: { type: 'int', min: 1, default: 50000, help: 'harvested rows per instance' },
  arch: { type: 'string', choices: SAE_ARCHS, default: 'topk', help: 'SAE architecture' },
  latents: { type: 'int', min: 1, default: 40, help: 'SAE latents' },
  k: { type: 'int', min: 1, default: 2, help: 'topk k' },
  l1: { type: 'number', min: 0, default: 3e-3, help: 'relu-l1 coefficient' },
  'sae-steps': { type: 'int', min: 1, default: 3000, help: 'SAE steps' },
  batch: { type: 'int', min: 1, default: 256, help: 'SAE batch' },
  lr: { type: 'number', default: 3e-3, help: 'SAE learning rate' },
  seed: { type: 'int', min: 0, default: 0, help: 'seed' },
  out: { type: 'string', help: 'keep the runs here (default: a temp folder)' },
});
const out = (f.out as string | undefined) ?? mkdtempSync(join(tmpdir(), 'sae-must-show-'));
const t0 = performance.now();
const toyDir = join(out, 'toy');
const toy = await trainToy({
  model: 'relu-out', features: f.features as number, hidden: f.hidden as number, instances: f.instances as number,
  feature_prob: parseFeatureProb(f.probs as string), importance_decay: 0.9, steps: f['toy-steps'] as number, seed: f.seed as number,
});
writeToyRun(toyDir, toy);
await harvestToy(toyDir, { out: join(out, 'store'), maxTokens: f.rows as number, seed: f.seed as number, silent: true });
const store = openActivationStore(join(out, 'store'));
process.stdout.write(`toy relu-out n=${f.features} m=${f.hidden}, importance 0.9^i; SAE ${f.arch} latents=${f.latents}${f.arch === 'topk' ? ` k=${f.k}` : ''}, ${f['sae-steps']} steps x ${f.batch} rows, lr ${f.lr}; ${f.rows} rows per instance\n\n`);
process.stdout.write('| feature_prob | represented | mmcs | hungarian | above_0.9 | above-median min cos | explained_variance | l0 | dead latents | check |\n|---|---|---|---|---|---|---|---|---|---|\n');
let failed = 0;
for (let i = 0; i < toy.instances.length; i++) {
  const hook = `instance.${i}.hook_hidden`;
  const dir = join(out, `sae-${i}`);
  await trainSae(store, defaultSaeConfig({
    hook, arch: f.arch as (typeof SAE_ARCHS)[number], latents: f.latents as number, k: f.k as number, steps: f['sae-steps'] as number,
    batch: f.batch as number, lr: f.lr as number, seed: f.seed as number, coefficients: { l1: f.l1 as number } as never,
  }), { out: dir, silent: true });
  const e = evaluateSae(readSae(dir), store);
  const t = e.truth!;
  const ok = t.mmcs >= 0.95 && t.above_median_min_cos > 0.9;
  if (!ok) failed++;
  process.stdout.write(`| ${toy.instances[i]!.feature_prob.toPrecision(3)} | ${t.represented}/${t.features} | ${t.mmcs.toFixed(4)} | ${t.hungarian.toFixed(4)} | ${t.above_0_9}/${t.features} | ${t.above_median_min_cos.toFixed(4)} | ${e.recon.explained_variance.toFixed(4)} | ${e.recon.l0.toFixed(2)} | ${e.recon.dead_latents} | ${ok ? 'ok' : 'FAIL'} |\n`);
}
process.stdout.write(`\nruns in ${out}; ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
process.exitCode = failed ? 1 : 0;

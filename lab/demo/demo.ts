/**
 * `lab demo`: the lab's main job end to end on one model. Harvest the MLP neurons of every layer on
 * the Brown part-of-speech, genre, text-property and compound-word features; sweep sparse probes;
 * classify features and neurons; summarise capacity; train toy models beside it (with the toy chain
 * toy -> harvest -> probe -> classify validated against the weights); measure the capacity claim
 * (lab/capacity: importance by directional ablation against capacity, the toy beside it); write one
 * HTML dashboard.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { harvestModel, harvestToy } from '../../activations/index.ts';
import { makeDataset, type DatasetName, type Tokenizer } from '../../activations/index.ts';
import { loadModel } from '../../activations/index.ts';
import { classifyProbeRun, type ClassifyResult } from '../../probes/index.ts';
import { writeClassifyRun } from '../../probes/index.ts';
import { storeSource, toyTruthLoader } from '../../probes/index.ts';
import { labEngine, runSweep, type SweepConfig } from '../../probes/index.ts';
import { STANDARD_KS } from '../../probes/index.ts';
import type { RankMethod } from '../../probes/index.ts';
import { writeReport } from '../../results/index.ts';
import { initBackend } from '../core/backend.ts';
import { InputError } from '../core/index.ts';
import { formatSeconds } from '../core/index.ts';
import { RunDir } from '../core/index.ts';
import { trainToy, writeToyRun } from '../../activations/toy/index.ts';
import { formatCorrelations, runCapacity, type SummaryRow } from '../capacity/index.ts';


export interface DemoOptions {
  model: string;
  out: string;
  seed: number;
  /** Tokens harvested per token-level dataset (sequence-level: genre gets 4x, as it has one row per sequence). */
  maxTokens: number;
  methods: RankMethod[];
  toySteps: number;
  backend?: string;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface DatasetSummary {
  dataset: string;
  hooks: string[];
  /** Per hook: features with a dedicated neuron (1-sparse F1 >= threshold), and neuron label counts. */
  perHook: Array<{ hook: string; dedicated: string[]; mono: number; poly: number; dead: number; width: number }>;
  /** Features whose F1 grows most from k=1 to k*: candidates for superposition. */
  spread: Array<{ feature: string; hook: string; k_star: number; f1_k1: number; f1_k_star: number; gain: number }>;
  /** Mean capacity estimate per hook (share of the layer a feature takes). */
  capacity: Array<{ hook: string; total: number; features: number }>;
}

export interface DemoSummary {
  out: string;
  report: string;
  model: string;
  datasets: DatasetSummary[];
  toy: { balanced_accuracy: number | null; runs: string[] };
  /** lab capacity per dataset: Spearman rho of importance with capacity and mono share, the toy beside it. */
  capacity: Array<{ dataset: string; out: string; features: number; eval_bytes: number; summary: SummaryRow[] }>;
  seconds: Record<string, number>;
}

/**
 * The paper's k list up to 64: the demo's time budget (5 minutes on 2 cores) goes to covering every
 * layer and dataset; k = 128 and 256 cost more than all smaller k together (`lab probe` runs them).
 */
export const DEMO_KS = STANDARD_KS.filter((k) => k <= 64);
/** F1 gain from k = 1 to k* below which a feature is not listed as needing many neurons. */
export const MIN_SPREAD_GAIN = 0.05;
/** Neuron pages per classify run in the demo's report (lab report defaults to 40). */
export const DEMO_NEURON_PAGES = 12;
/** Bytes of text each demo neuron page's ablation is measured on. */
export const DEMO_ABLATION_BYTES = 1000;
/** Random rotations for the privileged-basis test (lab classify defaults to 5). */
export const DEMO_ROTATIONS = 2;
/** Bytes of held-out text each capacity ablation runs over (lab capacity defaults to 4000). */
export const DEMO_CAPACITY_BYTES = 1000;
/** Bootstrap resamples for the capacity correlations (lab capacity defaults to 1000). */
export const DEMO_CAPACITY_REPS = 500;

const DATASETS: Array<{ name: DatasetName; tokens: (base: number) => number }> = [
  { name: 'brown-pos', tokens: (b) => b },
  { name: 'text-props', tokens: (b) => b },
  { name: 'compound-words', tokens: (b) => b },
  { name: 'brown-genre', tokens: (b) => 4 * b },
];

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const out = resolve(opts.out);
  const seconds: Record<string, number> = {};
  const stage = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    log(`demo: ${name} ...`);
    const r = await fn();
    seconds[name] = (performance.now() - t0) / 1000;
    log(`demo: ${name} done in ${formatSeconds(seconds[name]!)}`);
    return r;
  };
  if (!existsSync(join(opts.model, 'config.json'))) {
    throw new InputError(`--model ${opts.model}: no config.json there (a Hugging Face GPT-2 or GPT-NeoX folder is expected)`, opts.model);
  }
  await initBackend(opts.backend);
  const runs: string[] = [];
  const engine = labEngine({ timeLimitS: 5 });
  const summaries: DatasetSummary[] = [];

  const model = await stage('load model', () => loadModel(opts.model));
  let ablationText = '';
  try {
    ablationText = demoAblationText(model.tokenizer, opts.seed, Math.min(128, model.config.contextLength));
    for (const ds of DATASETS) {
      const harvestDir = join(out, `harvest-${ds.name}`);
      await stage(`harvest ${ds.name}`, () =>
        harvestModel(model, makeDataset(ds.name, model.tokenizer, { context: Math.min(128, model.config.contextLength), seed: opts.seed }),
          ['blocks.*.mlp.hook_post'], { out: harvestDir, seed: opts.seed, maxTokens: ds.tokens(opts.maxTokens), silent: opts.quiet }));
      runs.push(harvestDir);
    }
  } finally {
    model.dispose();
  }

  for (const ds of DATASETS) {
    const harvestDir = join(out, `harvest-${ds.name}`);
    const probeDir = join(out, `probe-${ds.name}`);
    const classifyDir = join(out, `classify-${ds.name}`);
    const res = await stage(`probe + classify ${ds.name}`, () => probeAndClassify(harvestDir, probeDir, classifyDir, opts, engine));
    runs.push(probeDir, classifyDir);
    summaries.push(summarise(ds.name, res));
  }

  // Toy models beside the real one: superposition geometry (n=5, m=2) and the validated neuron chain.
  const toyRuns: string[] = [];
  const toyBalanced = await stage('toy models', async () => {
    const geomDir = join(out, 'toy-superposition');
    const geom = await trainToy({ model: 'relu-out', features: 5, hidden: 2, instances: 8, feature_prob: [1, 0.05], importance_decay: 0.9, steps: opts.toySteps, seed: opts.seed });
    writeToyRun(geomDir, geom, 'lab demo');
    const neuronDir = join(out, 'toy-neurons');
    const neur = await trainToy({ model: 'relu-hidden', features: 8, hidden: 6, instances: 3, feature_prob: [0.3, 0.03], importance_decay: 0.9, steps: opts.toySteps, seed: opts.seed });
    writeToyRun(neuronDir, neur, 'lab demo');
    const h = join(out, 'toy-neurons-harvest');
    await harvestToy(neuronDir, { out: h, seed: opts.seed, maxTokens: 20_000, silent: true });
    const res = await probeAndClassify(h, join(out, 'toy-neurons-probe'), join(out, 'toy-neurons-classify'), { ...opts, methods: ['mean_dif'] }, engine);
    toyRuns.push(geomDir, neuronDir, join(out, 'toy-neurons-classify'));
    return res.toy?.balanced_accuracy ?? null;
  });
  runs.push(...toyRuns);

  // The capacity claim on every dataset's probes, with the superposition toy's C_i beside it.
  const capacity = await stage('capacity', async () => {
    const capModel = await loadModel(opts.model);
    try {
      return DATASETS.map((ds) => {
        const dir = join(out, `capacity-${ds.name}`);
        const r = runCapacity(capModel, {
          probeDir: join(out, `probe-${ds.name}`), classifyDir: join(out, `classify-${ds.name}`), out: dir, toyDir: join(out, 'toy-superposition'),
          evalBytes: DEMO_CAPACITY_BYTES, reps: DEMO_CAPACITY_REPS, seed: opts.seed, command: 'lab demo', overwrite: true,
        });
        runs.push(dir);
        return { dataset: ds.name, out: dir, features: r.rows.length, eval_bytes: r.eval.bytes, summary: r.summary };
      });
    } finally {
      capModel.dispose();
    }
  });

  const report = join(out, 'report.html');
  // Headline first: classifications, then the probe curves, the toys, and the harvests they came from.
  const order = (dir: string) => ['classify', 'capacity', 'probe', 'toy', 'harvest'].findIndex((k) => basename(dir).startsWith(k));
  runs.sort((a, b) => order(a) - order(b));
  await stage('report', () => writeReport(runs, report, {
    progress: !opts.quiet, title: `neuronlab demo: ${opts.model}`,
    // Neuron pages for every classify run; each page's zero-ablation is measured on ~1 KB of brown-pos text.
    neuronPages: { max: DEMO_NEURON_PAGES, ablation: ablationText ? { text: ablationText } : undefined },
  }));
  return { out, report, model: resolve(opts.model), datasets: summaries, toy: { balanced_accuracy: toyBalanced, runs: toyRuns }, capacity, seconds };
}

/** About DEMO_ABLATION_BYTES of brown-pos text (its first sequences, decoded), for the pages' ablations. */
function demoAblationText(tokenizer: Tokenizer, seed: number, context: number): string {
  const parts: string[] = [];
  let bytes = 0;
  for (const s of makeDataset('brown-pos', tokenizer, { context, seed }).sequences()) {
    const ids = tokenizer.bosId !== undefined && s.ids[0] === tokenizer.bosId ? s.ids.slice(1) : s.ids;
    const t = tokenizer.decode(ids);
    parts.push(t);
    bytes += Buffer.byteLength(t);
    if (bytes >= DEMO_ABLATION_BYTES) break;
  }
  return parts.join('\n');
}

async function probeAndClassify(harvestDir: string, probeDir: string, classifyDir: string, opts: DemoOptions, engine: ReturnType<typeof labEngine>): Promise<ClassifyResult> {
  const source = storeSource(harvestDir);
  const config: SweepConfig = {
    activations: source.dir, features: 'all', hooks: '*', methods: opts.methods, ks: DEMO_KS, ksExplicit: false,
    testFrac: 0.3, seed: opts.seed, minPosTrain: 10, minPosTest: 2, fit: { C: 1, classWeight: 'balanced', fitter: 'newton' },
  };
  // Units on two worker threads where there are two cores, as lab probe does by default.
  await runSweep(config, { outDir: probeDir, source, engine, silent: opts.quiet, command: 'lab demo', restart: true, threads: Math.min(2, availableParallelism()) });
  const res = classifyProbeRun(probeDir, { source, engine, truth: toyTruthLoader() }, { rotations: DEMO_ROTATIONS, seed: opts.seed });
  writeClassifyRun(classifyDir, res, { seed: opts.seed, config: { probes: resolve(probeDir), rotations: DEMO_ROTATIONS }, command: 'lab demo' });
  return res;
}

function summarise(dataset: string, res: ClassifyResult): DatasetSummary {
  const hooks = [...new Set(res.neurons.map((n) => n.hook))];
  const perHook = hooks.map((hook) => {
    const ns = res.neurons.filter((n) => n.hook === hook);
    const count = (l: string) => ns.filter((n) => n.label === l).length;
    const dedicated = res.features.filter((f) => f.hook === hook && f.status === 'ok' && f.dedicated).map((f) => f.feature);
    return { hook, dedicated, mono: count('mono'), poly: count('poly'), dead: count('dead'), width: ns.length };
  });
  const spread = res.features
    .filter((f) => f.status === 'ok' && f.k_star !== null && f.f1_gain !== null && f.f1_k1 !== null && f.f1_k_star !== null)
    .map((f) => ({ feature: f.feature, hook: f.hook, k_star: f.k_star!, f1_k1: f.f1_k1!, f1_k_star: f.f1_k_star!, gain: f.f1_gain! }))
    // A feature "needs many neurons" when spreading over k* neurons buys real F1, not rounding.
    .filter((f) => f.gain >= MIN_SPREAD_GAIN)
    .sort((a, b) => b.gain - a.gain)
    .slice(0, 5);
  const capacity = hooks.map((hook) => {
    const fs = res.features.filter((f) => f.hook === hook && f.status === 'ok');
    return { hook, total: fs.reduce((a, f) => a + f.capacity, 0), features: fs.length };
  });
  return { dataset, hooks, perHook, spread, capacity };
}

export function formatSummary(s: DemoSummary): string {
  const lines = [`neuronlab demo on ${s.model}`, ''];
  for (const d of s.datasets) {
    lines.push(`${d.dataset}:`);
    for (const h of d.perHook) {
      lines.push(`  ${h.hook.padEnd(26)} dedicated neurons for ${String(h.dedicated.length).padStart(2)} features` +
        `${h.dedicated.length ? ` (${h.dedicated.slice(0, 4).join(', ')}${h.dedicated.length > 4 ? ', ...' : ''})` : ''}; ` +
        `neurons mono ${h.mono} / poly ${h.poly} / dead ${h.dead} of ${h.width}`);
    }
    if (d.spread.length) {
      lines.push('  needs many neurons (F1 at k=1 -> k*):');
      for (const f of d.spread) lines.push(`    ${f.feature.padEnd(20)} ${f.hook.padEnd(26)} ${f.f1_k1.toFixed(2)} -> ${f.f1_k_star.toFixed(2)} at k*=${f.k_star}`);
    }
  }
  lines.push('', `toy relu-hidden chain: activation-based neuron labels vs weight-based truth, balanced accuracy ${s.toy.balanced_accuracy === null ? 'n/a' : s.toy.balanced_accuracy.toFixed(3)}`);
  if (s.capacity.length) {
    lines.push('', 'capacity claim: Spearman rho of importance (bits/byte lost when the probe direction is mean-ablated) [95% bootstrap]:');
    for (const c of s.capacity) {
      lines.push(`  ${c.dataset} (${c.features} feature x layer pairs, ${c.eval_bytes} bytes of held-out text):`);
      lines.push(...formatCorrelations(c.summary.filter((x) => x.source === 'lm'), '    '));
    }
    lines.push(...formatCorrelations(s.capacity[0]!.summary.filter((x) => x.source === 'toy' && x.scope === 'pooled'), '  '));
  }
  const total = Object.values(s.seconds).reduce((a, b) => a + b, 0);
  lines.push(`time: ${formatSeconds(total)} (${Object.entries(s.seconds).map(([k, v]) => `${k} ${formatSeconds(v)}`).join(', ')})`);
  lines.push('', `dashboard: ${s.report}`);
  return lines.join('\n') + '\n';
}

/**
 * `lab probe` and `lab classify`: thin layers over runSweep and classifyProbeRun.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { initBackend } from '../core/backend.ts';
import { parseFlags, required, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';
import { RunDir, readManifest } from '../core/index.ts';
import { classifyProbeRun, DEDICATED_F1, KSTAR_FRAC, type ClassifyResult } from '../../probes/index.ts';
import { writeClassifyRun } from '../../probes/index.ts';
import { COVER_SHARE, DEAD_ACT, DEAD_FRAC, MIN_Z } from '../../probes/index.ts';
import { storeSource, toyTruthLoader } from '../../probes/index.ts';
import { DEFAULT_KS, labEngine, RANK_METHODS, runSweep, type SweepConfig } from '../../probes/index.ts';
import { prepareRanking } from '../../probes/index.ts';
import type { RankMethod } from '../../probes/index.ts';

const PROBE: FlagSpecs = {
  activations: { type: 'string', help: 'activation store (a harvest run directory) (required)' },
  features: { type: 'string', default: 'all', help: "'all' or comma-separated label names" },
  hooks: { type: 'string', default: '*', help: "hook names or globs, comma-separated ('*' is any run of characters)" },
  methods: { type: 'list', default: ['mean_dif'], help: `ranking methods: ${RANK_METHODS.join(',')}` },
  k: { type: 'numbers', min: 1, help: `probe sizes (default ${DEFAULT_KS.join(',')}, clipped to each layer's width; explicit values wider than a layer are an error)` },
  'test-frac': { type: 'number', default: 0.3, help: 'fraction of sequences held out for test' },
  seed: { type: 'int', min: 0, default: 0, help: 'fixes the split (and seeded rankers)' },
  'min-pos-train': { type: 'int', min: 1, default: 10, help: 'skip a feature with fewer positives (or negatives) in train' },
  'min-pos-test': { type: 'int', min: 1, default: 2, help: 'skip a feature with fewer positives (or negatives) in test' },
  C: { type: 'number', default: 1, help: 'inverse L2 strength of the probes (as scikit-learn)' },
  fitter: { type: 'string', choices: ['newton', 'ml'], default: 'newton', help: 'probe solver (ml: ml-logistic-regression, slow reference)' },
  'time-limit': { type: 'number', min: 0, help: 'seconds per ranking for the iterative methods (l1, osp)' },
  threads: { type: 'int', min: 1, max: 64, help: 'worker threads running (feature, hook, method) units at once (default: 2 with 2+ cores, else 1)' },
  out: { type: 'string', help: 'run directory to write (required); an interrupted run there is resumed' },
  restart: { type: 'boolean', help: 'discard a probe run in --out whose config differs' },
  overwrite: { type: 'boolean', help: 'the same as --restart (the flag every command takes to replace a run in --out)' },
  json: { type: 'boolean', help: 'print a summary as JSON on stdout' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
  backend: { type: 'string', help: 'force a tfjs backend: node-gpu, node, wasm or cpu' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function probeCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, PROBE);
  const f = parsed.flags;
  if (f.help) {
    process.stdout.write(usage('probe', 'Sweeps k-sparse logistic probes over features x hooks x ranking methods x k; resumable.', PROBE) + '\n');
    return 0;
  }
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const activations = required<string>(parsed, 'activations');
  const out = required<string>(parsed, 'out');
  const methods = f.methods as string[];
  for (const m of methods) {
    if (!RANK_METHODS.includes(m as RankMethod)) throw new UsageError(`--methods: unknown method '${m}' (one of ${RANK_METHODS.join(', ')})`, 'methods');
  }
  const ks = (f.k as number[] | undefined) ?? [...DEFAULT_KS];
  for (const k of ks) if (!Number.isInteger(k)) throw new UsageError(`--k must be whole numbers, got ${k}`, 'k');
  const feats = f.features as string;
  const testFrac = f['test-frac'] as number;
  if (!(testFrac > 0 && testFrac < 1)) throw new UsageError(`--test-frac must be in (0, 1), got ${testFrac}`, 'test-frac');
  await initBackend(f.backend as string | undefined);
  const source = storeSource(activations);
  const config: SweepConfig = {
    activations: source.dir,
    features: feats === 'all' ? 'all' : feats.split(',').map((s) => s.trim()).filter(Boolean),
    hooks: f.hooks as string,
    methods: [...new Set(methods)] as RankMethod[],
    ks: [...new Set(ks)].sort((a, b) => a - b),
    ksExplicit: f.k !== undefined,
    testFrac,
    seed: f.seed as number,
    minPosTrain: f['min-pos-train'] as number,
    minPosTest: f['min-pos-test'] as number,
    fit: { C: f.C as number, classWeight: 'balanced', fitter: f.fitter as 'newton' | 'ml' },
  };
  await prepareRanking(config.methods);
  const res = await runSweep(config, {
    outDir: out, source, engine: labEngine({ timeLimitS: f['time-limit'] as number | undefined }),
    restart: Boolean(f.restart || f.overwrite), silent: Boolean(f.quiet), command: ['lab', 'probe', ...argv].join(' '),
    threads: (f.threads as number | undefined) ?? Math.min(2, availableParallelism()),
  });
  const ok = res.rows.filter((r) => r.status === 'ok');
  const skipped = res.rows.filter((r) => r.status === 'skipped');
  const failed = res.rows.filter((r) => r.status === 'failed');
  const summary = {
    out: resolve(out), rows: res.rows.length, probes: ok.length, skipped_units: skipped.length, failed_units: failed.length,
    resumed_units: res.resumed, computed_units: res.computed, seconds: res.manifest.timings?.total_s,
  };
  if (f.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else {
    process.stdout.write(`${ok.length} probes, ${skipped.length} skipped and ${failed.length} failed units -> ${summary.out}/sweep.csv\n`);
    for (const r of [...skipped, ...failed]) process.stdout.write(`  ${r.status} ${r.feature} @ ${r.hook} (${r.method}): ${r.skip_reason}\n`);
  }
  return 0;
}

const CLASSIFY: FlagSpecs = {
  probes: { type: 'string', help: 'a probe run directory (from lab probe) (required)' },
  out: { type: 'string', help: 'write features.csv, neurons.csv and classify.json to this run directory' },
  overwrite: { type: 'boolean', help: 'replace a run of another kind or config in --out' },
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  method: { type: 'string', default: 'best', help: "F1 curve per k: 'best' over the sweep's methods, or one method" },
  'dedicated-f1': { type: 'number', min: 0, max: 1, default: DEDICATED_F1, help: '1-sparse test F1 that makes a neuron dedicated' },
  'kstar-frac': { type: 'number', min: 0, max: 1, default: KSTAR_FRAC, help: 'k* is the smallest k reaching this fraction of the best F1' },
  'cover-share': { type: 'number', min: 0, max: 1, default: COVER_SHARE, help: "share of a neuron's response its listed features must cover" },
  'min-z': { type: 'number', min: 0, default: MIN_Z, help: 'Welch z a response needs to count' },
  'dead-act': { type: 'number', min: 0, default: DEAD_ACT, help: 'activation (and response mass) at or below which a neuron is off' },
  'dead-frac': { type: 'number', min: 0, max: 1, default: DEAD_FRAC, help: 'a neuron active on fewer rows than this fraction is dead' },
  rotations: { type: 'int', min: 0, default: 5, help: 'random rotations for the privileged-basis test' },
  seed: { type: 'int', min: 0, default: 0, help: 'seeds the rotations' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
  backend: { type: 'string', help: 'force a tfjs backend: node-gpu, node, wasm or cpu' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function classifyCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, CLASSIFY);
  const f = parsed.flags;
  if (f.help) {
    process.stdout.write(usage('classify', 'Per feature: dedicated neuron, k*, F1 gain, capacity, privileged basis. Per neuron: selectivity and mono / poly / dead.', CLASSIFY) + '\n');
    return 0;
  }
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const probes = required<string>(parsed, 'probes');
  const manifest = readManifest(probes, { kind: 'probe' });
  const method = f.method as string;
  if (method !== 'best' && !RANK_METHODS.includes(method as RankMethod)) {
    throw new UsageError(`--method must be 'best' or one of ${RANK_METHODS.join(', ')}; got '${method}'`, 'method');
  }
  await initBackend(f.backend as string | undefined);
  const options = {
    method: f.method as string,
    dedicatedF1: f['dedicated-f1'] as number,
    kStarFrac: f['kstar-frac'] as number,
    neurons: { coverShare: f['cover-share'] as number, minZ: f['min-z'] as number, deadAct: f['dead-act'] as number, deadFrac: f['dead-frac'] as number },
    rotations: f.rotations as number,
    seed: f.seed as number,
  };
  const source = storeSource(String(manifest.activations ?? (manifest.config as { activations: string }).activations));
  const res = classifyProbeRun(probes, {
    source, engine: labEngine(), truth: toyTruthLoader(),
    onHook: (hook, i, n) => { if (!f.quiet) process.stderr.write(`classify: hook ${i + 1}/${n} ${hook}\n`); },
  }, options);
  if (f.out) writeClassifyRun(f.out as string, res, { seed: options.seed, config: { probes: resolve(probes), ...options }, command: ['lab', 'classify', ...argv].join(' '), overwrite: Boolean(f.overwrite) });
  if (f.json) process.stdout.write(JSON.stringify(res) + '\n');
  else process.stdout.write(readable(res));
  return 0;
}

function readable(res: ClassifyResult): string {
  const fmt = (v: number | null | boolean) => (v === null ? '-' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : Number.isInteger(v) ? String(v) : v.toFixed(3));
  const lines = ['feature                hook                         best_f1  f1_k1  dedicated  k*  gain   capacity  toy_C  privilege'];
  for (const r of res.features) {
    if (r.status !== 'ok') {
      lines.push(`${r.feature.padEnd(22)} ${r.hook.padEnd(28)} skipped: ${r.skip_reason}`);
      continue;
    }
    lines.push([r.feature.padEnd(22), r.hook.padEnd(28), fmt(r.best_f1).padStart(7), fmt(r.f1_k1).padStart(6), fmt(r.dedicated).padStart(10),
      fmt(r.k_star).padStart(3), fmt(r.f1_gain).padStart(6), fmt(r.capacity).padStart(9), fmt(r.toy_capacity).padStart(6), fmt(r.privilege).padStart(10)].join(' '));
  }
  const byHook = new Map<string, Record<string, number>>();
  for (const n of res.neurons) {
    const c = byHook.get(n.hook) ?? { mono: 0, poly: 0, dead: 0 };
    c[n.label]!++;
    byHook.set(n.hook, c);
  }
  lines.push('', 'neurons (activation-based labels):');
  for (const [h, c] of byHook) lines.push(`  ${h.padEnd(28)} mono ${c.mono}  poly ${c.poly}  dead ${c.dead}`);
  if (res.toy) {
    const t = res.toy;
    lines.push('', `toy ground truth: balanced accuracy ${t.balanced_accuracy.toFixed(3)} (accuracy ${t.accuracy.toFixed(3)}, ${t.n_neurons} neurons)`);
    lines.push('  weights \\ activations   mono  poly  dead');
    for (const w of ['mono', 'poly', 'dead'] as const) {
      lines.push(`  ${w.padEnd(22)} ${String(t.confusion[w].mono).padStart(5)} ${String(t.confusion[w].poly).padStart(5)} ${String(t.confusion[w].dead).padStart(5)}`);
    }
    lines.push(`  capacity vs Scherlis C: pearson ${t.capacity.pearson.toFixed(3)}, mean |diff| ${t.capacity.mean_abs_diff.toFixed(3)}`);
  }
  return lines.join('\n') + '\n';
}

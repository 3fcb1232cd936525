/**
 * `lab probe`: a thin layer over runSweep (or, with --queue, over BullMQ workers; lab/queue).
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseFlags, required, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';
import { queueFlags, queueFlagValues } from './queue-flags.ts';
import { checkRankMethods, rankMethodNames, STANDARD_KS, type RankMethod } from '../../probes/kinds.ts';
import type { SweepConfig } from '../../probes/index.ts';

const PROBE: FlagSpecs = {
  activations: { type: 'string', help: 'activation store (a harvest run directory) (required)' },
  features: { type: 'string', default: 'all', help: "'all' or comma-separated label names" },
  hooks: { type: 'string', default: '*', help: "hook names or globs, comma-separated ('*' is any run of characters)" },
  methods: { type: 'list', default: ['mean_dif'], help: `ranking methods: ${rankMethodNames().join(',')}` },
  k: { type: 'numbers', min: 1, help: `probe sizes (default ${STANDARD_KS.join(',')}, clipped to each layer's width; explicit values wider than a layer are an error)` },
  'test-frac': { type: 'number', default: 0.3, help: 'fraction of sequences held out for test' },
  seed: { type: 'int', min: 0, default: 0, help: 'fixes the split (and seeded rankers)' },
  'min-pos-train': { type: 'int', min: 1, default: 10, help: 'skip a feature with fewer positives (or negatives) in train' },
  'min-pos-test': { type: 'int', min: 1, default: 2, help: 'skip a feature with fewer positives (or negatives) in test' },
  C: { type: 'number', default: 1, help: 'inverse L2 strength of the probes (as scikit-learn)' },
  contrast: {
    type: 'string', choices: ['all', 'hard-negatives'], default: 'all',
    help: "negatives of each probe: 'all' other rows, or 'hard-negatives': only a bigram's f_missing_first / f_missing_second rows (compound-bigrams; Gurnee et al. 2023)",
  },
  fitter: { type: 'string', choices: ['newton', 'ml'], default: 'newton', help: 'probe solver (ml: ml-logistic-regression, slow reference)' },
  'time-limit': { type: 'number', min: 0, help: 'seconds per ranking for the iterative methods (l1, osp)' },
  threads: { type: 'int', min: 1, max: 64, help: 'worker threads running (feature, hook, method) units at once (default: 2 with 2+ cores, else 1)' },
  ...queueFlags('units'),
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
  checkRankMethods(methods, 'methods');
  const ks = (f.k as number[] | undefined) ?? [...STANDARD_KS];
  for (const k of ks) if (!Number.isInteger(k)) throw new UsageError(`--k must be whole numbers, got ${k}`, 'k');
  const feats = f.features as string;
  const testFrac = f['test-frac'] as number;
  if (!(testFrac > 0 && testFrac < 1)) throw new UsageError(`--test-frac must be in (0, 1), got ${testFrac}`, 'test-frac');
  const q = queueFlagValues(f);
  if (q && f.threads !== undefined) throw new UsageError('--threads does not apply with --queue (each `lab worker` has --concurrency)', 'threads');
  const contrast = f.contrast === 'hard-negatives' ? 'hard-negatives' as const : undefined;
  if (q && contrast) throw new UsageError('--contrast hard-negatives does not run on --queue (its units carry row subsets the queue workers do not rebuild): run it locally', 'contrast');
  const { initBackend } = await import('../core/backend.ts');
  const { labEngine, prepareRanking, runSweep, storeSource } = await import('../../probes/index.ts');
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
    ...(contrast ? { contrast } : {}),
  };
  const common = {
    outDir: out, source, engine: labEngine({ timeLimitS: f['time-limit'] as number | undefined }),
    restart: Boolean(f.restart || f.overwrite), silent: Boolean(f.quiet), command: ['lab', 'probe', ...argv].join(' '),
  };
  let res;
  if (q) {
    const { parseQueueUrl, queuedSweep } = await import('../queue/index.ts');
    res = await queuedSweep(config, { ...common, addr: parseQueueUrl(q.url), clearQueue: q.clearQueue, settings: q.settings });
  } else {
    await prepareRanking(config.methods);
    res = await runSweep(config, { ...common, threads: (f.threads as number | undefined) ?? Math.min(2, availableParallelism()) });
  }
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

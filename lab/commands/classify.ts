/**
 * `lab classify`: a thin layer over classifyProbeRun, writing a classify run (probes/classify-run.ts).
 */
import { resolve } from 'node:path';
import { parseFlags, required, usage, type FlagSpecs } from './args.ts';
import { readManifest, UsageError } from '../core/index.ts';
import { COVER_SHARE, DEAD_ACT, DEAD_FRAC, DEDICATED_F1, KSTAR_FRAC, MIN_Z, rankMethodNames } from '../../probes/kinds.ts';
import type { ClassifyResult } from '../../probes/index.ts';

const CLASSIFY: FlagSpecs = {
  probes: { type: 'string', help: 'a probe run directory (from lab probe) (required)' },
  out: { type: 'string', help: 'write features.csv, neurons.csv and classify.json to this run directory' },
  overwrite: { type: 'boolean', help: 'replace a run of another kind or config in --out' },
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  method: { type: 'string', default: 'best', help: `F1 curve per k: 'best' over the sweep's methods, or one of ${rankMethodNames().join(',')}` },
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
  if (method !== 'best' && !rankMethodNames().includes(method)) {
    throw new UsageError(`--method must be 'best' or one of ${rankMethodNames().join(', ')}; got '${method}'`, 'method');
  }
  const { initBackend } = await import('../core/backend.ts');
  const { classifyProbeRun, labEngine, storeSource, toyTruthLoader, writeClassifyRun } = await import('../../probes/index.ts');
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
  const contrast = (manifest.config as { contrast?: string }).contrast;
  if (f.out) writeClassifyRun(f.out as string, res, { seed: options.seed, config: { probes: resolve(probes), ...options, ...(contrast ? { contrast } : {}) }, command: ['lab', 'classify', ...argv].join(' '), overwrite: Boolean(f.overwrite) });
  if (f.json) process.stdout.write(JSON.stringify(res) + '\n');
  else process.stdout.write(readable(res));
  return 0;
}

function readable(res: ClassifyResult): string {
  const fmt = (v: number | null | boolean) => (v === null ? '-' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : Number.isInteger(v) ? String(v) : v.toFixed(3));
  const lines = res.contrast ? ['each feature against its hard negatives only (the probe run\'s --contrast hard-negatives)', ''] : [];
  lines.push('feature                hook                         best_f1  f1_k1  dedicated  k*  gain   capacity  toy_C  privilege');
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

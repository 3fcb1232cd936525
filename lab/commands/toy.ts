/**
 * `lab toy train` and `lab toy sweep`: thin layers over trainToy and sweepToy.
 */
import { parseFlags, usage, type FlagSpecs, type Parsed } from './args.ts';
import { UsageError } from '../core/index.ts';
import { Progress } from '../core/index.ts';
import { parseFeatureProb, TOY_ENGINES, TOY_MODELS, type ToyConfig } from '../../activations/toy/kinds.ts';
import { RunDir } from '../core/index.ts';
import type { ToyResult } from '../../activations/toy/index.ts';

const COMMON: FlagSpecs = {
  model: { type: 'string', help: 'toy model', choices: TOY_MODELS, default: 'relu-out' },
  features: { type: 'int', help: 'n, input features', min: 1, default: 5 },
  hidden: { type: 'int', help: 'm, hidden dimensions (neurons for relu-hidden/abs)', min: 1, default: 2 },
  'importance-decay': { type: 'number', help: 'importance of feature i is r^i (r > 0)', default: 1 },
  importance: { type: 'numbers', help: 'explicit importances, comma-separated (one per feature)', min: 0 },
  steps: { type: 'int', help: 'training steps', min: 0, default: 10000 },
  batch: { type: 'int', help: 'batch size', min: 1, default: 1024 },
  lr: { type: 'number', help: 'AdamW learning rate (> 0)', default: 1e-3 },
  'weight-decay': { type: 'number', help: 'AdamW decoupled weight decay', min: 0, default: 0.01 },
  tied: { type: 'boolean', help: 'relu-hidden/abs: tie W2 = W1^T' },
  seed: { type: 'int', help: 'random seed (data, initialisation)', min: 0, default: 0 },
  engine: { type: 'string', help: 'training engine: auto = tfjs on node-gpu, js otherwise', choices: TOY_ENGINES, default: 'auto' },
  workers: { type: 'int', help: 'JS engine threads (0 = auto)', min: 0, default: 0 },
  backend: { type: 'string', help: 'force a tfjs backend: node-gpu, node, wasm or cpu' },
  out: { type: 'string', help: 'write the run directory here' },
  overwrite: { type: 'boolean', help: 'replace a run of another kind or config in --out' },
  json: { type: 'boolean', help: 'print one JSON object on stdout' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
  help: { type: 'boolean', help: 'show this help' },
};

const { model: MODEL, features: FEATURES, hidden: HIDDEN, ...REST } = COMMON;
const TRAIN: FlagSpecs = {
  model: MODEL!,
  features: FEATURES!,
  hidden: HIDDEN!,
  instances: { type: 'int', help: 'instances trained at once', min: 1, default: 1 },
  'feature-prob': { type: 'string', help: 'feature probability p, or a:b spread geometrically across instances', default: '1' },
  ...REST,
};

const TRAIN_SUMMARY = `Trains toy models of superposition (Elhage et al. 2022) and prints their metrics.
Example: lab toy train --model relu-out --features 5 --hidden 2 --instances 10 --feature-prob 1:0.05 --importance-decay 0.9 --json`;

export async function toyCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'train') return trainCommand(rest);
  if (sub === 'sweep') return sweepCommand(rest);
  if (sub === undefined || sub === '--help' || sub === 'help' || sub === '-h') {
    process.stdout.write('usage: lab toy train|sweep [flags]   (lab toy train --help, lab toy sweep --help)\n');
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown toy subcommand '${sub}' (train, sweep)`);
}

/** The ToyConfig fields shared by train and sweep, from parsed flags. */
export function commonConfig(parsed: Parsed): Omit<ToyConfig, 'instances' | 'feature_prob'> {
  const f = parsed.flags;
  return {
    model: f.model as ToyConfig['model'],
    features: f.features as number,
    hidden: f.hidden as number,
    importance_decay: f['importance-decay'] as number,
    importance: f.importance as number[] | undefined,
    steps: f.steps as number,
    batch: f.batch as number,
    lr: f.lr as number,
    weight_decay: f['weight-decay'] as number,
    tied: Boolean(f.tied),
    seed: f.seed as number,
    engine: f.engine as ToyConfig['engine'],
    workers: f.workers as number,
  };
}

async function trainCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, TRAIN);
  if (parsed.flags.help) {
    process.stdout.write(usage('toy train', TRAIN_SUMMARY, TRAIN) + '\n');
    return 0;
  }
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const f = parsed.flags;
  const partial = { ...commonConfig(parsed), instances: f.instances as number, feature_prob: parseFeatureProb(f['feature-prob'] as string) };
  const { toyJson, trainToy, writeToyRun } = await import('../../activations/toy/index.ts');
  const progress = new Progress({ label: 'toy train', total: partial.steps, unit: 'steps', silent: Boolean(f.quiet) });
  const result = await trainToy(partial, {
    backend: f.backend as string | undefined,
    // The last step is drawn by finish(), with the total time.
    onProgress: (step, steps, loss) => (step < steps ? progress.update(step, `loss ${loss.toPrecision(4)}`) : progress.finish(`loss ${loss.toPrecision(4)}`)),
  });
  if (partial.steps === 0) progress.finish();
  if (f.out) writeToyRun(f.out as string, result, ['lab', 'toy', 'train', ...argv].join(' '), { overwrite: Boolean(f.overwrite) });
  process.stdout.write(f.json ? JSON.stringify(toyJson(result)) + '\n' : table(result) + '\n');
  return 0;
}

/** A readable summary: one line per instance. */
export function table(r: ToyResult): string {
  const neurons = r.instances[0]?.neurons !== undefined;
  const head = ['instance', 'feature_prob', 'loss', 'represented', 'total_capacity', 'dims_per_feature', 'shape'];
  if (neurons) head.push('mono/poly/dead');
  const rows = r.instances.map((inst) => {
    const cells = [
      String(inst.instance),
      inst.feature_prob.toPrecision(3),
      inst.loss.toPrecision(4),
      `${inst.norms.filter((x) => x >= 0.5).length}/${inst.norms.length}`,
      inst.total_capacity.toFixed(3),
      Number.isFinite(inst.dims_per_feature) ? inst.dims_per_feature.toFixed(3) : 'inf',
      inst.shape,
    ];
    if (inst.neurons) {
      const c = (l: string) => inst.neurons!.filter((x) => x.label === l).length;
      cells.push(`${c('mono')}/${c('poly')}/${c('dead')}`);
    }
    return cells;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const c = r.config;
  const title = `${c.model} n=${c.features} m=${c.hidden} steps=${c.steps} batch=${c.batch} lr=${c.lr} seed=${c.seed} engine=${r.engine}${r.backend ? `/${r.backend}` : ''} (${r.train_seconds.toFixed(1)}s)`;
  return [title, fmt(head), ...rows.map(fmt)].join('\n');
}

const { engine: _engine, ...SWEEP_COMMON } = COMMON;
const SWEEP: FlagSpecs = {
  ...SWEEP_COMMON,
  features: { type: 'int', help: 'n, input features (the last one gets the relative importance)', min: 2, default: 2 },
  hidden: { type: 'int', help: 'm, hidden dimensions', min: 1, default: 1 },
  probs: { type: 'numbers', help: 'feature probabilities (default: 9 from 1 to 0.01, geometric)' },
  'relative-importance': { type: 'numbers', help: 'importance of the last feature (default: 9 from 0.1 to 10, geometric)' },
  restarts: { type: 'int', help: 'restarts per cell; the lowest loss is kept', min: 1, default: 3 },
  steps: { type: 'int', help: 'training steps', min: 0, default: 5000 },
};

const SWEEP_SUMMARY = `Phase diagram (Elhage et al. 2022): over feature probability x the last feature's relative importance,
is the last feature dropped, given a dedicated dimension, or stored in superposition? Writes phase.csv with --out.
Example (the paper's n=2, m=1): lab toy sweep --features 2 --hidden 1 --out runs/phase`;

async function sweepCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, SWEEP);
  if (parsed.flags.help) {
    process.stdout.write(usage('toy sweep', SWEEP_SUMMARY, SWEEP) + '\n');
    return 0;
  }
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const f = parsed.flags;
  const { importance: _i, importance_decay: _d, engine: _e, ...base } = commonConfig({ ...parsed, flags: { ...f, engine: 'js' } });
  if (f.model === 'relu-hidden' || f.model === 'abs') throw new UsageError('--model: phase diagrams are defined for linear and relu-out', 'model');
  const { geomGrid, phaseCsv, phaseMap, sweepToy } = await import('../../activations/toy/index.ts');
  const sc = {
    base,
    probs: (f.probs as number[] | undefined) ?? geomGrid(1, 0.01, 9),
    relative_importance: (f['relative-importance'] as number[] | undefined) ?? geomGrid(0.1, 10, 9),
    restarts: f.restarts as number,
  };
  const progress = new Progress({ label: 'toy sweep', total: sc.relative_importance.length * base.steps, unit: 'steps', silent: Boolean(f.quiet) });
  const t0 = performance.now();
  const rows = await sweepToy(sc, (d, total) => (d < total ? progress.update(d) : undefined));
  progress.finish();
  if (f.out) {
    const run = RunDir.begin(f.out as string, { kind: 'toy-sweep', seed: base.seed, config: { ...sc }, backend: 'js', command: ['lab', 'toy', 'sweep', ...argv].join(' '), overwrite: Boolean(f.overwrite) });
    run.write('phase.csv', phaseCsv(rows));
    run.timing('train_s', (performance.now() - t0) / 1000);
    run.finish();
  }
  process.stdout.write(f.json ? JSON.stringify({ config: sc, rows }) + '\n' : phaseMap(rows) + '\n');
  return 0;
}

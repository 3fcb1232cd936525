/**
 * `lab toy train` and `lab toy sweep`: thin layers over trainToy and sweepToy.
 */
import { parseFlags, usage, type FlagSpecs, type Parsed } from '../args.ts';
import { UsageError } from '../errors.ts';
import { Progress } from '../progress.ts';
import { parseFeatureProb, TOY_ENGINES, TOY_MODELS, type ToyConfig } from './config.ts';
import { toyJson, writeToyRun } from './run.ts';
import { trainToy, type ToyResult } from './train.ts';

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
  json: { type: 'boolean', help: 'print one JSON object on stdout' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
  help: { type: 'boolean', help: 'show this help' },
};

const TRAIN: FlagSpecs = {
  ...COMMON,
  instances: { type: 'int', help: 'instances trained at once', min: 1, default: 1 },
  'feature-prob': { type: 'string', help: 'feature probability p, or a:b spread geometrically across instances', default: '1' },
};

const TRAIN_SUMMARY = `Trains toy models of superposition (Elhage et al. 2022) and prints their metrics.
Example: lab toy train --model relu-out --features 5 --hidden 2 --instances 10 --feature-prob 1:0.05 --importance-decay 0.9 --json`;

export async function toyCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'train') return trainCommand(rest);
  if (sub === undefined || sub === '--help' || sub === 'help' || sub === '-h') {
    process.stdout.write('usage: lab toy train [flags]   (lab toy train --help)\n');
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown toy subcommand '${sub}' (train)`);
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
  const progress = new Progress({ label: 'toy train', total: partial.steps, unit: 'steps', silent: Boolean(f.quiet) });
  const result = await trainToy(partial, {
    backend: f.backend as string | undefined,
    // The last step is drawn by finish(), with the total time.
    onProgress: (step, steps, loss) => (step < steps ? progress.update(step, `loss ${loss.toPrecision(4)}`) : progress.finish(`loss ${loss.toPrecision(4)}`)),
  });
  if (partial.steps === 0) progress.finish();
  if (f.out) writeToyRun(f.out as string, result, ['lab', 'toy', 'train', ...argv].join(' '));
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

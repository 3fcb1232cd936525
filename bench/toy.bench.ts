/**
 * `npm run bench -- toy [--steps-scale X] [--repeats N] [--dense false] [--cases 1,2]`: training steps per second of the
 * toy ReLU-output model, the lab's JS engine against the PyTorch peer (bench/peers/toy_torch.py, 2
 * threads, AdamW lr 1e-3, batch 1024), on the same configs, timed over the same number of steps.
 *
 * The peer's timing excludes Python's start-up, torch's import and 10 warm-up steps; the lab's excludes
 * the same kind of fixed cost (starting its worker threads, the final metrics) by timing a run of
 * base + S steps and a run of base steps and dividing S by the difference: the marginal rate of a
 * training step. Each figure is the median over the repeats; each case runs the peer and then the
 * lab, so a load spike on the shared machine hits the pair.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { parseFlags } from '../lab/commands/args.ts';
import { trainJsParallel } from '../activations/toy/engine-pool.ts';
import type { JsJob } from '../activations/toy/engine-js.ts';
import { runPeer } from './peer.ts';
import { median, row, type Benchmark, type BenchRow } from './run.ts';

const here = dirname(fileURLToPath(import.meta.url));

interface Case {
  instances: number;
  n: number;
  m: number;
  p: number;
  /** Steps timed per repeat (the peer takes ~4 s per repeat on an idle machine). */
  steps: number;
}

const CASES: Case[] = [
  { instances: 10, n: 20, m: 5, p: 0.05, steps: 150 },
  { instances: 20, n: 200, m: 20, p: 0.05, steps: 20 },
];

/** Marginal steps/s: S steps more than a base run, over the extra time they take. */
async function labRate(c: Case, steps: number, workers: number): Promise<number> {
  const base = Math.max(1, Math.round(steps / 4));
  const tBase = await labSeconds(c, base, workers);
  const tFull = await labSeconds(c, base + steps, workers);
  return steps / Math.max(1e-6, tFull - tBase);
}

async function labSeconds(c: Case, steps: number, workers: number): Promise<number> {
  const job: JsJob = {
    spec: { model: 'relu-out', n: c.n, m: c.m, tied: false },
    steps,
    batch: 1024,
    lr: 1e-3,
    weightDecay: 0.01,
    seed: 0,
    importance: Float32Array.from({ length: c.n }, (_, i) => Math.pow(0.9, i)),
    instances: Array.from({ length: c.instances }, (_, i) => i),
    probs: new Array<number>(c.instances).fill(c.p),
  };
  const t0 = performance.now();
  await trainJsParallel(job, workers);
  return (performance.now() - t0) / 1000;
}

const bench: Benchmark = {
  description: 'toy relu-out training steps/s, lab JS engine vs PyTorch (2 threads), AdamW lr 1e-3, batch 1024',
  peer: 'bench/peers/toy_torch.py (PyTorch 1.13 CPU, torch.set_num_threads(2), bmm, AdamW)',
  async run(args) {
    const { flags } = parseFlags(args, {
      'steps-scale': { type: 'number', help: 'multiply every case\'s steps', default: 1, min: 0.01 },
      repeats: { type: 'int', help: 'timed repeats per side', default: 3, min: 1 },
      dense: { type: 'string', help: 'also run p = 1 rows', choices: ['true', 'false'], default: 'true' },
      workers: { type: 'int', help: 'lab worker threads', default: 2, min: 1 },
      cases: { type: 'numbers', help: 'run only these cases (1-based, in the order of the table)' },
    });
    const scale = flags['steps-scale'] as number;
    const repeats = flags.repeats as number;
    const workers = flags.workers as number;
    const cases = [...CASES];
    if (flags.dense === 'true') cases.push(...CASES.map((c) => ({ ...c, p: 1, steps: Math.max(5, Math.round(c.steps / 4)) })));
    const only = flags.cases as number[] | undefined;
    const rows: BenchRow[] = [];
    for (const [k, c] of cases.entries()) {
      if (only && !only.includes(k + 1)) continue;
      const steps = Math.max(5, Math.round(c.steps * scale));
      const name = `relu-out n=${c.n} m=${c.m} x${c.instances} instances, p=${c.p}`;
      process.stderr.write(`${name}: peer...\n`);
      const peer = runPeer<{ steps_per_s: number; rates: number[] }>(join(here, 'peers', 'toy_torch.py'), [
        '--instances', String(c.instances), '--features', String(c.n), '--hidden', String(c.m),
        '--feature-prob', String(c.p), '--steps', String(steps), '--repeats', String(repeats),
      ]);
      process.stderr.write(`${name}: peer ${peer.steps_per_s.toFixed(2)} steps/s; lab...\n`);
      await labRate(c, Math.min(steps, 10), workers); // warm-up, as the peer's
      const rates: number[] = [];
      for (let r = 0; r < repeats; r++) rates.push(await labRate(c, steps, workers));
      const lab = median(rates);
      process.stderr.write(`${name}: lab ${lab.toFixed(2)} steps/s (${rates.map((x) => x.toFixed(1)).join(', ')})\n`);
      rows.push(row({
        case: name,
        metric: 'training steps/s',
        unit: 'steps/s',
        lab,
        peer: peer.steps_per_s,
        higherIsBetter: true,
        notes: `${steps} steps x ${repeats} repeats; lab ${workers} worker threads (marginal rate: start-up excluded); peer rates ${peer.rates.map((x) => x.toFixed(2)).join(', ')}`,
      }));
    }
    return rows;
  },
};

export default bench;

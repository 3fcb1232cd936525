/**
 * `npm run bench -- sae [--repeats N] [--steps-scale X] [--cases 1,2]`: TopK SAE training steps per
 * second, the lab (activations/sae: lossAndGrad + Adam with the unit-norm decoder, one thread) against
 * the same step in PyTorch 1.13 on 2 threads (bench/peers/sae_torch.py), on the same shapes: a pool of
 * 8 standard-normal batches cycled, a quarter of the latents marked dead so the AuxK path runs on both
 * sides. Store reading is left out of both (the trainer streams chunks; that cost is the store's).
 * Each figure is the median over the repeats; each case runs the peer and then the lab.
 */
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../lab/commands/args.ts';
import { Rng } from '../lab/core/index.ts';
import { DEFAULT_COEFFICIENTS, lossAndGrad, zeroGrads } from '../activations/sae/model.ts';
import { adamStep, defaultSaeConfig, initSae } from '../activations/sae/train.ts';
import { useTfMatMul } from '../activations/sae/tf-matmul.ts';
import { runPeer } from './peer.ts';
import { median, row, type Benchmark, type BenchRow } from './run.ts';

const here = dirname(fileURLToPath(import.meta.url));

interface Case { name: string; dIn: number; dSae: number; k: number; batch: number; steps: number }

const CASES: Case[] = [
  { name: 'toy hidden layer (n=20 features in m=10)', dIn: 10, dSae: 40, k: 2, batch: 256, steps: 400 },
  { name: 'toy, wider (m=20, 4x latents)', dIn: 20, dSae: 80, k: 4, batch: 1024, steps: 100 },
  { name: 'default model MLP (blocks.0.mlp.hook_post, 512 wide, 2x latents)', dIn: 512, dSae: 1024, k: 16, batch: 256, steps: 10 },
];

function labRate(c: Case, steps: number): number {
  const sae = initSae(defaultSaeConfig({ hook: 'h', arch: 'topk', latents: c.dSae, k: c.k }), c.dIn);
  const opt = { m: zeroGrads(sae), v: zeroGrads(sae) };
  const g = zeroGrads(sae);
  const rng = new Rng(0);
  const xs = Array.from({ length: 8 }, () => Float32Array.from({ length: c.batch * c.dIn }, () => rng.normal()));
  const dead = Uint8Array.from({ length: c.dSae }, (_, j) => (j % 4 === 0 ? 1 : 0));
  let t = 0;
  const step = (x: Float32Array) => {
    for (const a of [g.W_enc, g.b_enc, g.W_dec, g.b_dec, g.threshold]) a.fill(0);
    lossAndGrad(sae, x, c.batch, DEFAULT_COEFFICIENTS, g, dead);
    adamStep(sae, g, opt, 1e-3, ++t, undefined);
  };
  for (let i = 0; i < 5; i++) step(xs[i % 8]!);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step(xs[i % 8]!);
  return steps / ((performance.now() - t0) / 1000);
}

const bench: Benchmark = {
  description: 'TopK SAE training steps/s (AuxK on, Adam, unit-norm decoder), lab JS + tfjs-wasm matMul for big encoders (1 thread) vs PyTorch 1.13 (2 threads)',
  peer: 'bench/peers/sae_torch.py (PyTorch 1.13 CPU, torch.set_num_threads(2), autograd, torch.optim.Adam)',
  async run(args) {
    const { flags } = parseFlags(args, {
      'steps-scale': { type: 'number', default: 1, min: 0.01, help: 'multiply every case\'s steps' },
      repeats: { type: 'int', default: 3, min: 1, help: 'timed repeats per side' },
      cases: { type: 'numbers', help: 'run only these cases (1-based)' },
    });
    // As the commands do: the encoder product goes to tfjs (XNNPACK) from DENSE_MATMUL_MIN multiply-adds.
    const backend = await useTfMatMul();
    const rows: BenchRow[] = [];
    for (const [i, c] of CASES.entries()) {
      if (flags.cases && !(flags.cases as number[]).includes(i + 1)) continue;
      const steps = Math.max(3, Math.round(c.steps * (flags['steps-scale'] as number)));
      const name = `${c.name}: d_in ${c.dIn}, d_sae ${c.dSae}, k ${c.k}, batch ${c.batch}`;
      process.stderr.write(`${name}: peer...\n`);
      const peer = runPeer<{ steps_per_s: number; rates: number[] }>(join(here, 'peers', 'sae_torch.py'), [
        '--d-in', String(c.dIn), '--d-sae', String(c.dSae), '--k', String(c.k), '--batch', String(c.batch), '--steps', String(steps), '--repeats', String(flags.repeats),
      ]);
      const rates = Array.from({ length: flags.repeats as number }, () => labRate(c, steps));
      const lab = median(rates);
      process.stderr.write(`${name}: peer ${peer.steps_per_s.toFixed(1)}, lab ${lab.toFixed(1)} steps/s\n`);
      rows.push(row({
        case: name, metric: 'training steps/s', unit: 'steps/s', lab, peer: peer.steps_per_s, higherIsBetter: true,
        notes: `lab encoder product on tfjs ${backend} when >= 4M multiply-adds; ${steps} steps x ${flags.repeats} repeats; lab rates ${rates.map((x) => x.toFixed(1)).join(', ')}; peer rates ${peer.rates.map((x) => x.toFixed(1)).join(', ')}`,
      }));
    }
    return rows;
  },
};

export default bench;

/**
 * `npm run bench -- harvest [--arch gpt2|gpt-neox] [--batch B] [--seq S] [--repeats N] [--full]`: the harvest
 * forward pass in tokens/s on a random checkpoint of GPT-2 small's shape (12 layers, d_model 768, 12 heads,
 * vocab 50257) or, with `--arch gpt-neox`, Pythia-160m's (the same widths, vocab 50304, rotary on 25% of
 * each head, parallel residual), keeping every blocks.*.mlp.hook_post and reading it back to host memory,
 * lab (tfjs, active backend) against PyTorch (bench/peers/harvest_torch.py, 2 threads, float32). The
 * checkpoint is written at bench time into a temp folder and removed afterwards. The harvest forward
 * (`logits: false`: hooks only, what `lab harvest` runs; the peer also stops after the last block) at
 * `lab harvest`'s default batch of 8 sequences, on the lab's ForwardPool as `lab harvest` opens it (this
 * thread and 1 worker thread, the tfjs engine's default on wasm), in-process on one thread, and on the onnx
 * engine (activations/models/onnx: one ONNX Runtime session on the same threads, lab harvest's default); with `--full`,
 * also the full forward with the logits on one thread. Rounds interleave peer, lab and lab pool; after a
 * warm-up round, each figure is the median over the repeats.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../lab/commands/args.ts';
import { activeBackend, initBackend, tf } from '../lab/core/backend.ts';
import { Rng } from '../lab/core/rng.ts';
import { ForwardPool } from '../activations/models/forward-pool.ts';
import { loadModel } from '../activations/models/load.ts';
import { OnnxForward } from '../activations/models/onnx/engine.ts';
import { writeRandomCheckpoint } from '../activations/models/random-checkpoint.ts';
import { runPeer } from './peer.ts';
import { median, row, type Benchmark } from './run.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** The shapes the bench runs: GPT-2 small, and Pythia-160m (GPT-NeoX). */
const SHAPES = {
  gpt2: { label: 'gpt2-small shape', spec: { architecture: 'gpt2', dModel: 768, nHeads: 12, vocabSize: 50257, contextLength: 1024 } },
  'gpt-neox': {
    label: 'pythia-160m shape (gpt-neox)',
    spec: { architecture: 'gpt-neox', dModel: 768, nHeads: 12, vocabSize: 50304, contextLength: 2048, rotaryPct: 0.25, parallelResidual: true },
  },
} as const;

const bench: Benchmark = {
  description: 'harvest forward tokens/s, GPT-2-small or Pythia-160m shape (12 x 768), all blocks.*.mlp.hook_post kept',
  peer: 'bench/peers/harvest_torch.py (PyTorch 1.13 CPU, torch.set_num_threads(2), float32, no_grad)',
  async run(args) {
    const { flags } = parseFlags(args, {
      arch: { type: 'string', help: 'checkpoint shape: gpt2 (GPT-2 small) or gpt-neox (Pythia-160m)', default: 'gpt2', choices: Object.keys(SHAPES) },
      batch: { type: 'int', help: 'sequences per forward (8: what lab harvest runs by default)', default: 8, min: 1 },
      full: { type: 'boolean', help: 'also time the full forward with the vocabulary-wide logits (1 thread each; at batch 8 the in-process wasm heap can run out)', default: false },
      seq: { type: 'int', help: 'tokens per sequence (the context)', default: 128, min: 1, max: 1024 },
      repeats: { type: 'int', help: 'timed forwards per side', default: 3, min: 1 },
      layers: { type: 'int', help: 'layers (12 for GPT-2 small)', default: 12, min: 1 },
      threads: { type: 'int', help: 'forward threads of the pooled lab row (this one and threads - 1 workers, as lab harvest runs)', default: 2, min: 1 },
    });
    const shape = SHAPES[flags.arch as keyof typeof SHAPES];
    const B = flags.batch as number;
    const full = Boolean(flags.full);
    const S = flags.seq as number;
    const R = flags.repeats as number;
    await initBackend();
    const dir = mkdtempSync(join(tmpdir(), 'harvest-bench-'));
    try {
      process.stderr.write(`writing a random ${shape.label} checkpoint to ${dir}\n`);
      writeRandomCheckpoint(dir, { ...shape.spec, nLayers: flags.layers as number, seed: 0 });
      const V = shape.spec.vocabSize;
      // Rounds interleave the sides (peer, lab in-process, lab pool), so a load swing on the shared
      // machine hits all three; round 0 is the warm-up. The peer reloads the model each round but
      // times only its forward.
      const T = flags.threads as number;
      const model = await loadModel(dir);
      // As lab harvest opens it: this thread (with `model`) is thread 0, T - 1 workers the others.
      const pool = await ForwardPool.open(dir, T, activeBackend() ?? 'wasm', { local: model });
      const rng = new Rng(0);
      const rows = Array.from({ length: B }, () => Array.from({ length: S }, () => rng.int(V)));
      const ids = tf.tensor2d(rows, [B, S], 'int32');
      const rates: Record<'peerFull' | 'peerHarvest' | 'labFull' | 'labHarvest' | 'pool' | 'onnx', number[]> = { peerFull: [], peerHarvest: [], labFull: [], labHarvest: [], pool: [], onnx: [] };
      const names = ['blocks.*.mlp.hook_post'];
      // The onnx engine as lab harvest runs it by default: one session, T native threads, float32 hooks back.
      const onnx = await OnnxForward.open(model, model.hookNames().filter((n) => n.endsWith('mlp.hook_post')), { threads: T });
      const flat = Int32Array.from(rows.flat());
      const inProcess = (logits: boolean): number => {
        const t0 = performance.now();
        const r = model.forward(ids, logits ? { names } : { names, logits: false });
        for (const v of r.cache.values()) v.dataSync();
        r.logits.dataSync();
        tf.dispose([r.logits, ...r.cache.values()]);
        return (B * S) / ((performance.now() - t0) / 1000);
      };
      try {
        for (let i = 0; i < R + 1; i++) {
          const warm = i === 0 ? ' (warm-up)' : '';
          const peer = runPeer<{ tokens_per_s: number[]; harvest_tokens_per_s: number[] }>(
            join(here, 'peers', 'harvest_torch.py'), [dir, String(B), String(S), '1', i === 0 ? '0' : '1', full ? 'full,harvest' : 'harvest'], { threads: 2 });
          const labFull = full ? inProcess(true) : NaN;
          const labHarvest = inProcess(false);
          const t0 = performance.now();
          await pool.forward({ ids: rows, names });
          const pooled = (B * S) / ((performance.now() - t0) / 1000);
          // One untimed pass first, as the peer runs one warm-up forward in each round's process.
          await onnx.forward(flat, B, S);
          const t1 = performance.now();
          await onnx.forward(flat, B, S);
          const onnxRate = (B * S) / ((performance.now() - t1) / 1000);
          process.stderr.write(
            `round ${i}${warm}: ` + (full ? `full forward: peer ${peer.tokens_per_s[0]!.toFixed(1)}, lab ${labFull.toFixed(1)} tokens/s; ` : '') +
              `harvest forward: peer ${peer.harvest_tokens_per_s[0]!.toFixed(1)}, lab ${labHarvest.toFixed(1)}, lab pool x${T} ${pooled.toFixed(1)}, lab onnx x${T} ${onnxRate.toFixed(1)}\n`,
          );
          if (i > 0) {
            if (full) rates.peerFull.push(peer.tokens_per_s[0]!);
            rates.peerHarvest.push(peer.harvest_tokens_per_s[0]!);
            if (full) rates.labFull.push(labFull);
            rates.labHarvest.push(labHarvest);
            rates.pool.push(pooled);
            rates.onnx.push(onnxRate);
          }
        }
      } finally {
        ids.dispose();
        await onnx.close();
        model.dispose();
        await pool.close();
      }
      const caseName = `${shape.label}, ${flags.layers} layers, batch ${B} x ${S} tokens, mlp.hook_post x${flags.layers} kept`;
      const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
      const fullRows = !full ? [] : [
        row({
          case: `${caseName}, full forward with logits, lab 1 thread`,
          metric: 'forward throughput',
          unit: 'tokens/s',
          lab: median(rates.labFull),
          peer: median(rates.peerFull),
          higherIsBetter: true,
          notes: `lab backend ${activeBackend()} in-process (model.forward); peer 2 threads; medians of ${R} (lab ${list(rates.labFull)}; peer ${list(rates.peerFull)})`,
        }),
      ];
      return [
        ...fullRows,
        row({
          case: `${caseName}, harvest forward (no unembedding), lab 1 thread`,
          metric: 'forward throughput',
          unit: 'tokens/s',
          lab: median(rates.labHarvest),
          peer: median(rates.peerHarvest),
          higherIsBetter: true,
          notes: `forward({logits: false}) as lab harvest runs it; peer stops after the last block too; medians of ${R} (lab ${list(rates.labHarvest)}; peer ${list(rates.peerHarvest)})`,
        }),
        row({
          case: `${caseName}, harvest forward (no unembedding), lab ${T} threads`,
          metric: 'forward throughput',
          unit: 'tokens/s',
          lab: median(rates.pool),
          peer: median(rates.peerHarvest),
          higherIsBetter: true,
          notes: `lab ForwardPool as lab harvest opens it on wasm: this thread and ${T - 1} worker thread(s), hooks copied back to this thread; peer 2 threads; medians of ${R} (lab ${list(rates.pool)}; peer ${list(rates.peerHarvest)})`,
        }),
        row({
          case: `${caseName}, harvest forward (no unembedding), lab onnx engine ${T} threads`,
          metric: 'forward throughput',
          unit: 'tokens/s',
          lab: median(rates.onnx),
          peer: median(rates.peerHarvest),
          higherIsBetter: true,
          notes: `lab --engine onnx (lab harvest's default): one ONNX Runtime session, ${T} intra-op threads, float32 hooks back, the second of two passes per round (the peer's rounds warm up once too); peer 2 threads; medians of ${R} (lab ${list(rates.onnx)}; peer ${list(rates.peerHarvest)})`,
        }),
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;

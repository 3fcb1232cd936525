/**
 * `npm run bench -- harvest [--batch B] [--seq S] [--repeats N] [--full]`: the harvest forward pass in tokens/s
 * on a random GPT-2-small-shaped checkpoint (12 layers, d_model 768, 12 heads, vocab 50257), keeping
 * every blocks.*.mlp.hook_post and reading it back to host memory, lab (tfjs, active backend) against
 * PyTorch (bench/peers/harvest_torch.py, 2 threads, float32). The checkpoint is written at bench time
 * into a temp folder and removed afterwards. The harvest forward (`logits: false`: hooks only, what
 * `lab harvest` runs; the peer also stops after the last block) at `lab harvest`'s default batch of 8
 * sequences, on the lab's ForwardPool (2 worker threads, the harvest's default on wasm) and in-process
 * on one thread; with `--full`, also the full forward with the 50257-wide logits on one thread. Rounds interleave peer, lab and
 * lab pool; after a warm-up round, each figure is the median over the repeats.
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
import { writeRandomCheckpoint } from '../activations/models/random-checkpoint.ts';
import { runPeer } from './peer.ts';
import { median, row, type Benchmark } from './run.ts';

const here = dirname(fileURLToPath(import.meta.url));

const bench: Benchmark = {
  description: 'harvest forward tokens/s, GPT-2-small shape (12 x 768, vocab 50257), all blocks.*.mlp.hook_post kept',
  peer: 'bench/peers/harvest_torch.py (PyTorch 1.13 CPU, torch.set_num_threads(2), float32, no_grad)',
  async run(args) {
    const { flags } = parseFlags(args, {
      batch: { type: 'int', help: 'sequences per forward (8: what lab harvest runs by default)', default: 8, min: 1 },
      full: { type: 'boolean', help: 'also time the full forward with the 50257-wide logits (1 thread each; at batch 8 the in-process wasm heap can run out)', default: false },
      seq: { type: 'int', help: 'tokens per sequence (the context)', default: 128, min: 1, max: 1024 },
      repeats: { type: 'int', help: 'timed forwards per side', default: 3, min: 1 },
      layers: { type: 'int', help: 'layers (12 for GPT-2 small)', default: 12, min: 1 },
      threads: { type: 'int', help: 'worker threads of the pooled lab row', default: 2, min: 1 },
    });
    const B = flags.batch as number;
    const full = Boolean(flags.full);
    const S = flags.seq as number;
    const R = flags.repeats as number;
    await initBackend();
    const dir = mkdtempSync(join(tmpdir(), 'harvest-bench-'));
    try {
      process.stderr.write(`writing a random GPT-2-small checkpoint to ${dir}\n`);
      writeRandomCheckpoint(dir, {
        architecture: 'gpt2',
        nLayers: flags.layers as number,
        dModel: 768,
        nHeads: 12,
        vocabSize: 50257,
        contextLength: 1024,
        seed: 0,
      });
      // Rounds interleave the sides (peer, lab in-process, lab pool), so a load swing on the shared
      // machine hits all three; round 0 is the warm-up. The peer reloads the model each round but
      // times only its forward.
      const T = flags.threads as number;
      const model = await loadModel(dir);
      const pool = await ForwardPool.open(dir, T);
      const rng = new Rng(0);
      const rows = Array.from({ length: B }, () => Array.from({ length: S }, () => rng.int(50257)));
      const ids = tf.tensor2d(rows, [B, S], 'int32');
      const rates: Record<'peerFull' | 'peerHarvest' | 'labFull' | 'labHarvest' | 'pool', number[]> = { peerFull: [], peerHarvest: [], labFull: [], labHarvest: [], pool: [] };
      const names = ['blocks.*.mlp.hook_post'];
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
          process.stderr.write(
            `round ${i}${warm}: ` + (full ? `full forward: peer ${peer.tokens_per_s[0]!.toFixed(1)}, lab ${labFull.toFixed(1)} tokens/s; ` : '') +
              `harvest forward: peer ${peer.harvest_tokens_per_s[0]!.toFixed(1)}, lab ${labHarvest.toFixed(1)}, lab pool x${T} ${pooled.toFixed(1)}\n`,
          );
          if (i > 0) {
            if (full) rates.peerFull.push(peer.tokens_per_s[0]!);
            rates.peerHarvest.push(peer.harvest_tokens_per_s[0]!);
            if (full) rates.labFull.push(labFull);
            rates.labHarvest.push(labHarvest);
            rates.pool.push(pooled);
          }
        }
      } finally {
        ids.dispose();
        model.dispose();
        await pool.close();
      }
      const caseName = `gpt2-small shape, ${flags.layers} layers, batch ${B} x ${S} tokens, mlp.hook_post x${flags.layers} kept`;
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
          case: `${caseName}, harvest forward (no unembedding), lab ${T} worker threads`,
          metric: 'forward throughput',
          unit: 'tokens/s',
          lab: median(rates.pool),
          peer: median(rates.peerHarvest),
          higherIsBetter: true,
          notes: `lab ForwardPool (what lab harvest uses by default on wasm), ${T} threads x wasm, hooks copied back to the main thread; peer 2 threads; medians of ${R} (lab ${list(rates.pool)})`,
        }),
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;

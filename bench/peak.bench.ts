/**
 * The physical limit of this machine (issue 16): the peak f32 multiply-add rate of WebAssembly SIMD
 * (bench/peak-kernel.ts, assembled with lab/core's emitter: the ceiling of every kernel the lab writes)
 * against the best native sgemm reachable from Python (numpy's OpenBLAS, PyTorch 1.13's matmul), on one
 * thread and on two. GFLOP/s; `npm run bench -- peak [--seconds 0.5] [--sizes 256,512,1024,2048]`.
 */
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorker } from '../lab/core/index.ts';
import { runPeer } from './peer.ts';
import { row, type Benchmark, type BenchRow } from './run.ts';
import { peakGflops } from './peak-kernel.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ACCUMULATORS = [4, 6, 8, 12];

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

/** Summed GFLOP/s of `threads` workers running the K-accumulator loop at the same time. */
async function threadsGflops(threads: number, K: number, seconds: number): Promise<number> {
  const rates = await Promise.all(
    Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
      const w = startWorker(new URL('./peak-worker.ts', import.meta.url), { K, seconds });
      w.once('message', (g: number) => { resolve(g); void w.terminate(); });
      w.once('error', reject);
    })),
  );
  return rates.reduce((a, b) => a + b, 0);
}

const bench: Benchmark = {
  description: 'peak f32 mul+add loop in wasm SIMD (1 and 2 threads) against the best native sgemm, GFLOP/s',
  peer: 'numpy (OpenBLAS) and PyTorch 1.13 matmul, square f32 GEMMs, best size',
  async run(args: string[]): Promise<BenchRow[]> {
    const seconds = Number(flag(args, 'seconds', '0.5'));
    const sizes = flag(args, 'sizes', '256,512,1024,2048');
    const perK = ACCUMULATORS.map((K) => ({ K, gflops: peakGflops(K, seconds) }));
    const bestK = perK.reduce((a, b) => (b.gflops > a.gflops ? b : a));
    const threads = Math.min(2, availableParallelism());
    const two = await threadsGflops(threads, bestK.K, seconds);
    const peer1 = runPeer<{ gflops: number; best: { lib: string; n: number } }>(join(here, 'peers', 'peak_sgemm.py'), ['--threads', '1', '--sizes', sizes, '--seconds', String(2 * seconds)], { threads: 1 });
    const peer2 = runPeer<{ gflops: number; best: { lib: string; n: number } }>(join(here, 'peers', 'peak_sgemm.py'), ['--threads', String(threads), '--sizes', sizes, '--seconds', String(2 * seconds)], { threads });
    const notes = `wasm per accumulator count: ${perK.map((p) => `K=${p.K} ${p.gflops.toFixed(1)}`).join(', ')}`;
    return [
      row({ case: `peak, 1 thread (wasm K=${bestK.K} accumulators; native ${peer1.best.lib} n=${peer1.best.n})`, metric: 'GFLOP/s', unit: 'GFLOP/s', lab: bestK.gflops, peer: peer1.gflops, higherIsBetter: true, notes }),
      row({ case: `peak, ${threads} threads (wasm K=${bestK.K}, one loop per worker; native ${peer2.best.lib} n=${peer2.best.n})`, metric: 'GFLOP/s', unit: 'GFLOP/s', lab: two, peer: peer2.gflops, higherIsBetter: true }),
    ];
  },
};

export default bench;

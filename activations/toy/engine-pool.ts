/**
 * Splits the JS engine's instances across worker threads. Instances are independent and seeded per
 * instance, so the split changes the wall time, never the weights. A worker started from the compiled
 * package (dist/) costs about 0.1 s of CPU; from the TypeScript sources it loads tsx first (about half a
 * second), so there small jobs stay on the calling thread.
 */
import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { NumericError, startWorker, workerModule } from '../../lab/core/index.ts';
import { choosePath } from './kernels.ts';
import { trainJs, type JsInstanceResult, type JsJob } from './engine-js.ts';

/** Rough multiply-adds per second of the kernels on one core, to size jobs (not a measurement claim). */
const OPS_PER_SECOND = 1e9;
/**
 * Fixed cost of one batch row beyond its multiply-adds, in the same units: drawing its features (a
 * logarithm per gap) and the row loop. Fitted to n=20 m=5 p=0.05, where the multiply-adds alone
 * predicted a fifth of the measured 1.6 CPU-seconds per 10,000 instance-steps (2026-12-01, issue 16).
 */
const ROW_OPS = 120;
/** Below this estimated single-thread time, workers are not worth their start-up: compiled, from tsx. */
const MIN_PARALLEL_SECONDS = { compiled: 0.25, sources: 2 };

export function estimateSeconds(job: JsJob): number {
  const { n, m } = job.spec;
  let ops = 0;
  for (const p of job.probs) {
    const path = !job.path || job.path === 'auto' ? choosePath(job.spec, p, job.batch) : job.path;
    // SIMD gram rows cost about a quarter of their scalar multiply-adds.
    const perRow = (path === 'gram' ? (2 * p * n * n + 4 * n) / 4 : 3 * n * m + 2 * p * n * m) + ROW_OPS;
    ops += job.batch * perRow + (path === 'gram' ? 2 * n * n * m : 0);
  }
  return (ops * job.steps) / OPS_PER_SECOND;
}

export function autoWorkers(job: JsJob): number {
  const cores = availableParallelism();
  const min = workerModule(WORKER).pathname.endsWith('.js') ? MIN_PARALLEL_SECONDS.compiled : MIN_PARALLEL_SECONDS.sources;
  if (cores < 2 || job.instances.length < 2 || estimateSeconds(job) < min) return 1;
  return Math.min(cores, job.instances.length, 2);
}

/** Trains on `workers` threads (0 = auto, 1 = this thread); results come back in instance order. */
export async function trainJsParallel(job: JsJob, workers: number, onChunk?: (done: number, loss: number) => void): Promise<JsInstanceResult[]> {
  const w = workers === 0 ? autoWorkers(job) : Math.min(workers, job.instances.length);
  if (w <= 1) return trainJs(job, onChunk);
  // Deal instances round-robin so that each thread gets a similar mix of feature probabilities.
  const parts: JsJob[] = Array.from({ length: w }, (_, t) => {
    const ks = job.instances.map((_, k) => k).filter((k) => k % w === t);
    return { ...job, instances: ks.map((k) => job.instances[k]!), probs: ks.map((k) => job.probs[k]!) };
  });
  const done = new Array<number>(w).fill(0);
  const losses = new Array<number>(w).fill(NaN);
  const report = () => {
    let sum = 0;
    let cnt = 0;
    parts.forEach((p, t) => {
      if (Number.isFinite(losses[t]!)) {
        sum += losses[t]! * p.instances.length;
        cnt += p.instances.length;
      }
    });
    onChunk?.(Math.min(...done), cnt ? sum / cnt : NaN);
  };
  const started = parts.map((part, t) => runWorker(part, (d, l) => {
    done[t] = d;
    losses[t] = l;
    report();
  }));
  const settled = await Promise.allSettled(started);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const all = settled.flatMap((s) => (s as PromiseFulfilledResult<JsInstanceResult[]>).value);
  return all.sort((a, b) => a.instance - b.instance);
}

const WORKER = new URL('./engine-worker.ts', import.meta.url);

type WorkerMessage =
  | { type: 'progress'; done: number; loss: number }
  | { type: 'done'; results: JsInstanceResult[] }
  | { type: 'error'; name: string; message: string; stack?: string };

function runWorker(job: JsJob, onChunk: (done: number, loss: number) => void): Promise<JsInstanceResult[]> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(WORKER, job);
    let finished = false;
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'progress') onChunk(msg.done, msg.loss);
      else if (msg.type === 'done') {
        finished = true;
        resolve(msg.results);
      } else {
        finished = true;
        const err = msg.name === 'NumericError' ? new NumericError(msg.message) : new Error(`toy worker: ${msg.message}\n${msg.stack ?? ''}`);
        reject(err);
      }
    });
    worker.on('error', (err) => {
      finished = true;
      reject(err);
    });
    worker.on('exit', (code) => {
      if (!finished) reject(new Error(`toy worker exited with code ${code} before finishing`));
    });
  });
}

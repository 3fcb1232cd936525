/**
 * The forward pass on several threads: tfjs-wasm runs one thread per Node thread (its own threads are off
 * in Node), so a pool of worker threads, each with its own wasm backend and its own copy of the model,
 * splits a batch of sequences between them. For harvesting (many independent sequences) this is where a
 * second core pays; each thread holds a full copy of the weights (GPT-2 small: about 0.65 GB). A pool
 * opened with `local` (a model this thread has loaded anyway) counts this thread as thread 0 and starts
 * one worker fewer, so a process holds one copy of the weights per forward thread and no more (issue 16).
 */
import type { Worker } from 'node:worker_threads';
import { LabError, startWorker } from '../../lab/core/index.ts';
import type { LanguageModel } from '../types.ts';
import { forwardOnThread, type HostTensor, type PoolRequest, type PoolResult, type ThreadAnswer } from './forward-request.ts';

export type { HostTensor, PoolRequest, PoolResult, ThreadAnswer } from './forward-request.ts';

const WORKER = new URL('./forward-worker.ts', import.meta.url);

type Reply = { type: 'ready' } | ({ type: 'result' } & ThreadAnswer) | { type: 'error'; message: string };

class PoolWorker {
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  readonly worker: Worker;

  constructor(dir: string, backend: string | undefined) {
    this.worker = startWorker(WORKER, { dir, backend });
    this.worker.on('message', (msg: Reply) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      if (msg.type === 'error') p.reject(new LabError(msg.message));
      else p.resolve(msg);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`forward worker exited with code ${code}`)));
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }

  /** The next reply (the 'ready' after start-up, or a request's result). */
  next(msg?: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      if (msg !== undefined) this.worker.postMessage(msg);
    });
  }
}

export class ForwardPool {
  private constructor(private readonly workers: PoolWorker[], private readonly local: LanguageModel | undefined) {}

  /**
   * A pool of `threads` forward threads on the model in `dir`: worker threads, each loading its own copy
   * (its own backend; default wasm). With `local` (the model in `dir`, loaded on this thread on the same
   * backend) this thread is thread 0 and `threads - 1` workers start.
   */
  static async open(dir: string, threads = 2, backend = 'wasm', opts: { local?: LanguageModel } = {}): Promise<ForwardPool> {
    const n = Math.max(1, threads) - (opts.local ? 1 : 0);
    const ws = Array.from({ length: n }, () => new PoolWorker(dir, backend));
    try {
      await Promise.all(ws.map((w) => w.next()));
    } catch (err) {
      await Promise.all(ws.map((w) => w.worker.terminate()));
      throw err;
    }
    return new ForwardPool(ws, opts.local);
  }

  /** Forward threads: the workers, and this thread when it is one. */
  get threads(): number {
    return this.workers.length + (this.local ? 1 : 0);
  }

  /**
   * Runs the batch split by rows into `parts` sub-batches (default: one per thread), results concatenated
   * back in row order. Sub-batch i runs on thread i mod threads, so a pool of fewer threads (a queue
   * worker's single one) forwards exactly the shapes a pool of `parts` threads would, one after another:
   * the same shapes give the same floats.
   */
  async forward(req: PoolRequest, parts = this.threads): Promise<PoolResult> {
    const B = req.ids.length;
    const per = Math.ceil(B / Math.max(1, parts));
    const subs: PoolRequest['ids'][] = [];
    for (let p = 0; p < parts && p * per < B; p++) subs.push(req.ids.slice(p * per, (p + 1) * per));
    const replies: ThreadAnswer[] = new Array(subs.length);
    const n = this.threads;
    const first = this.local ? 1 : 0;
    const sub = (p: number): PoolRequest => ({ ids: subs[p]!, names: req.names, logits: !!req.logits });
    // Every thread's part settles before an error is thrown, so no reply of this batch is left to answer the next.
    const settled = await Promise.allSettled([
      // Each worker answers one request at a time: its sub-batches go in turn.
      ...this.workers.map(async (w, wi) => {
        for (let p = wi + first; p < subs.length; p += n) replies[p] = (await w.next(sub(p))) as Extract<Reply, { type: 'result' }>;
      }),
      // This thread's sub-batches start once every worker has its first (a forward here blocks the event
      // loop); before each later one the loop turns, so finished workers get their next.
      (async () => {
        if (!this.local) return;
        for (let p = 0; p < subs.length; p += n) {
          if (p > 0) await new Promise((r) => setImmediate(r));
          replies[p] = forwardOnThread(this.local, sub(p));
        }
      })(),
    ]);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const hooks = new Map<string, HostTensor>();
    for (const [name] of replies[0]!.hooks) hooks.set(name, concatRows(replies.map((p) => new Map(p.hooks).get(name)!)));
    return { hooks, logits: req.logits ? concatRows(replies.map((p) => p.logits!)) : undefined };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

function concatRows(parts: HostTensor[]): HostTensor {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((a, p) => a + p.data.length, 0);
  const data = new Float32Array(total);
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.data.length;
  }
  return { shape: [parts.reduce((a, p) => a + p.shape[0]!, 0), ...parts[0]!.shape.slice(1)], data };
}

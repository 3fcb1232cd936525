/**
 * The forward pass on several threads: tfjs-wasm runs one thread per Node process, so a pool of worker
 * threads, each with its own wasm backend and its own copy of the model, splits a batch of sequences
 * between them. For harvesting (many independent sequences) this is where a second core pays; each
 * worker holds a full copy of the weights (GPT-2 small: about 0.65 GB).
 */
import type { Worker } from 'node:worker_threads';
import { LabError, startWorker } from '../../lab/core/index.ts';

const WORKER = new URL('./forward-worker.ts', import.meta.url);

/** One hook's values for the whole batch: row-major [batch, ...rest]. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export interface PoolRequest {
  /** [batch][seq] token ids; every row the same length. */
  ids: number[][];
  /** Hook names or globs to return. */
  names: string[];
  /** Also return the logits (large: batch x seq x vocab). */
  logits?: boolean;
}

export interface PoolResult {
  hooks: Map<string, HostTensor>;
  logits?: HostTensor;
}

type Reply = { type: 'ready' } | { type: 'result'; hooks: [string, HostTensor][]; logits?: HostTensor } | { type: 'error'; message: string };

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
  private constructor(private readonly workers: PoolWorker[]) {}

  /** Starts `threads` workers, each loading the model in `dir` (its own backend; default wasm). */
  static async open(dir: string, threads = 2, backend = 'wasm'): Promise<ForwardPool> {
    const ws = Array.from({ length: Math.max(1, threads) }, () => new PoolWorker(dir, backend));
    try {
      await Promise.all(ws.map((w) => w.next()));
    } catch (err) {
      await Promise.all(ws.map((w) => w.worker.terminate()));
      throw err;
    }
    return new ForwardPool(ws);
  }

  get threads(): number {
    return this.workers.length;
  }

  /**
   * Runs the batch split by rows into `parts` sub-batches (default: one per worker), results concatenated
   * back in row order. Sub-batch i runs on worker i mod threads, so a pool of fewer threads (a queue
   * worker's single one) forwards exactly the shapes a pool of `parts` threads would, one after another:
   * the same shapes give the same floats.
   */
  async forward(req: PoolRequest, parts = this.workers.length): Promise<PoolResult> {
    const B = req.ids.length;
    const per = Math.ceil(B / Math.max(1, parts));
    const subs: PoolRequest['ids'][] = [];
    for (let p = 0; p < parts && p * per < B; p++) subs.push(req.ids.slice(p * per, (p + 1) * per));
    const replies: Extract<Reply, { type: 'result' }>[] = new Array(subs.length);
    // Each worker answers one request at a time: its sub-batches go in turn.
    await Promise.all(this.workers.map(async (w, wi) => {
      for (let p = wi; p < subs.length; p += this.workers.length) {
        replies[p] = (await w.next({ ids: subs[p], names: req.names, logits: !!req.logits })) as Extract<Reply, { type: 'result' }>;
      }
    }));
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

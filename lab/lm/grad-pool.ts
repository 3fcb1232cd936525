/**
 * Data-parallel gradients on a second core. tfjs-wasm runs one thread per Node process, so a helper
 * worker thread with its own wasm backend and its own copy of the model computes the gradients of a
 * share of each batch while the trainer's thread computes the rest; the trainer averages them (weighted
 * by rows) and applies one optimizer step. The worker receives the current weights with every request,
 * so the copies can never drift apart, and the result does not depend on thread timing.
 */
import type { Worker } from 'node:worker_threads';
import type { Gpt2 } from '../../activations/index.ts';
import { tf } from '../core/backend.ts';
import { LabError, startWorker } from '../core/index.ts';

const WORKER = new URL('./grad-worker.ts', import.meta.url);

type Reply = { type: 'ready' } | { type: 'result'; loss: number; grads: Record<string, Float32Array> } | { type: 'error'; message: string };

export interface WorkerGrads {
  loss: number;
  grads: Record<string, Float32Array>;
}

export class GradWorker {
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private readonly worker: Worker;

  private constructor(model: Gpt2, backend: string) {
    this.worker = startWorker(WORKER, { config: model.config, backend });
    this.worker.on('message', (msg: Reply) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      if (msg.type === 'error') p.reject(new LabError(`gradient worker: ${msg.message}`));
      else p.resolve(msg);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new LabError(`gradient worker exited with code ${code}`)));
  }

  /** Starts a worker holding a copy of `model`'s architecture (weights arrive with each request). */
  static async open(model: Gpt2, backend = tf.getBackend()): Promise<GradWorker> {
    const w = new GradWorker(model, backend);
    try {
      await w.next();
    } catch (err) {
      await w.close();
      throw err;
    }
    return w;
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }

  private next(msg?: unknown, transfer: ArrayBuffer[] = []): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      if (msg !== undefined) this.worker.postMessage(msg, transfer);
    });
  }

  /**
   * Sends the model's current weights and `rows` windows; the promise resolves to their mean loss and
   * its gradients by HF name. Post it before computing the trainer's own share, so both run at once.
   */
  grads(model: Gpt2, inputs: Int32Array, targets: Int32Array, rows: number, context: number): Promise<WorkerGrads> {
    const weights: Record<string, Float32Array> = {};
    for (const [name, v] of model.variables) weights[name] = (v.dataSync() as Float32Array).slice();
    const transfer = Object.values(weights).map((a) => a.buffer as ArrayBuffer);
    return this.next({ weights, inputs, targets, rows, context }, transfer) as Promise<WorkerGrads>;
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

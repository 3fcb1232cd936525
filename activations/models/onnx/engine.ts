/**
 * The onnx engine: a loaded model's forward to its hooks on ONNX Runtime's CPU kernels (onnxruntime-node,
 * which ships its native library inside the npm package). One session holds one copy of the weights and
 * runs its GEMMs on `threads` native threads, so a harvest on two cores needs no worker threads and no
 * second copy of the model; the tfjs model stays for everything else (planning, logits, training).
 *
 * The session runs on a worker thread of its own (session-worker.ts: onnxruntime-node's run blocks the
 * thread that calls it), so while one batch is forwarded the harvest loop writes the last one.
 * Output floats depend on the thread count only through what the kernels promise (MLAS splits a GEMM's
 * output tiles between threads, never a dot product), which the tests check; the store records the
 * engine, its version and the thread count, and a store made by another engine is another store.
 */
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { InputError, LabError, startWorker, UsageError } from '../../../lab/core/index.ts';
import type { HookName, LanguageModel } from '../../types.ts';
import { architecture } from '../architecture.ts';
import { TransformerModel } from '../load.ts';
import { transformerGraph } from './graph.ts';
import { encodeModel } from './proto.ts';

/**
 * Fails fast, before the graph is built, when onnxruntime-node is not installed. Only resolved here: its
 * 45 MB native library loads on the session's thread, which is the only one that uses it (a failure to
 * load it comes back from there, worded the same way).
 */
function requireOrtInstalled(): void {
  try {
    createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch (err) {
    throw new UsageError(`--engine onnx needs the onnxruntime-node package, which is not installed here (${(err as Error).message.split('\n')[0]}); run with --engine tfjs`, 'engine');
  }
}

/**
 * ONNX's protobuf limit on a model's bytes: past 2 GiB it would need external data files, which the engine
 * does not write. lab harvest's default engine compares checkpoints with it too.
 */
export const ONNX_MAX_MODEL_BYTES = 2 ** 31 - 1;

export interface OnnxForwardOptions {
  /** Native threads for each operator (intra-op); default 1. */
  threads?: number;
  /** Hooks come back as f16 bits (Uint16Array; cast in the graph, toHalf's rounding) instead of float32. */
  float16?: boolean;
}

const WORKER = new URL('./session-worker.ts', import.meta.url);

type Reply =
  | { type: 'ready' }
  | { type: 'result'; outputs: { name: string; dims: number[]; data: Float32Array | Uint16Array }[] }
  | { type: 'error'; message: string };

export class OnnxForward {
  /** Replies are answered in order: one request in flight at a time, later ones wait their turn. */
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    readonly names: HookName[],
    readonly threads: number,
    private readonly vocab: number,
    private readonly outputs: string[],
  ) {
    worker.on('message', (msg: Reply) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.resolve(msg);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`onnx engine: its session thread exited (code ${code})`)));
  }

  private fail(err: Error): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(err);
  }

  private next(msg?: unknown, transfer: ArrayBuffer[] = []): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      if (msg !== undefined) this.worker.postMessage(msg, transfer);
    });
  }

  /**
   * A session that computes `names` of `model` (a model loaded by loadModel, any registered architecture),
   * on a thread of its own: this thread builds the graph from the model's parameters and moves its bytes
   * there (no copy), so it holds no copy of its own once the session is up.
   */
  static async open(model: LanguageModel, names: HookName[], opts: OnnxForwardOptions = {}): Promise<OnnxForward> {
    if (!(model instanceof TransformerModel)) throw new UsageError('--engine onnx runs Hugging Face checkpoints loaded by loadModel; run this model with --engine tfjs', 'engine');
    const threads = opts.threads ?? 1;
    if (!(Number.isInteger(threads) && threads >= 1)) throw new UsageError(`--threads must be a positive integer, got ${threads}`, 'threads');
    requireOrtInstalled();
    const cfg = model.config;
    let spec: ReturnType<typeof transformerGraph> | undefined = transformerGraph({
      cfg, params: model.params, positional: architecture(cfg.architecture).positional, names,
      host: (t) => t.dataSync() as Float32Array, producer: 'neuronlab', float16: opts.float16,
    });
    const bytes = spec.initializers.reduce((s, t) => s + t.data.byteLength, 0);
    if (bytes > ONNX_MAX_MODEL_BYTES) {
      throw new InputError(`${model.source.dir}: ${(bytes / 2 ** 30).toFixed(2)} GiB of weights exceed ONNX's 2 GiB model limit; run with --engine tfjs`, model.source.dir);
    }
    const outputs = spec.outputs.map((v) => v.name);
    const buf = encodeModel(spec);
    spec = undefined;
    const worker = startWorker(WORKER, { bytes: buf, threads }, [buf.buffer as ArrayBuffer]);
    const f = new OnnxForward(worker, names, threads, cfg.vocabSize, outputs);
    const ready = await f.next().catch((err: Error) => ({ type: 'error' as const, message: err.message }));
    if (ready.type !== 'ready') {
      await worker.terminate();
      throw new LabError(ready.type === 'error' ? ready.message : 'onnx engine: unexpected reply from its session thread');
    }
    return f;
  }

  /**
   * One padded batch [B, T] of token ids; each hook's values [B, T, ...] (hook_pos_embed [1, T, d]) in
   * `names` order (f16 bits with `float16`). `lengths` (each row's real tokens, padding after them): the
   * graph computes only those rows, and padded positions come back as zeros; without it every position is
   * a real token.
   */
  forward(flat: Int32Array, B: number, T: number, lengths?: readonly number[]): Promise<(Float32Array | Uint16Array)[]> {
    if (this.closed) return Promise.reject(new Error('onnx engine: forward after close'));
    if (flat.length !== B * T) return Promise.reject(new UsageError(`ids hold ${flat.length} values, not ${B} x ${T}`));
    if (lengths && (lengths.length !== B || lengths.some((n) => !(Number.isInteger(n) && n >= 1 && n <= T)))) {
      return Promise.reject(new UsageError(`lengths must be ${B} integers in 1..${T}`));
    }
    const ids = new BigInt64Array(flat.length);
    for (let i = 0; i < flat.length; i++) {
      const id = flat[i]!;
      if (id < 0 || id >= this.vocab) return Promise.reject(new UsageError(`token id ${id} is outside the vocabulary [0, ${this.vocab})`));
      ids[i] = BigInt(id);
    }
    const N = lengths ? lengths.reduce((a, b) => a + b, 0) : B * T;
    const rows = new BigInt64Array(N);
    for (let b = 0, at = 0; b < B; b++) for (let t = 0; t < (lengths ? lengths[b]! : T); t++) rows[at++] = BigInt(b * T + t);
    const run = this.queue.then(async () => {
      const r = await this.next({ type: 'run', ids, rows, B, T }, [ids.buffer as ArrayBuffer, rows.buffer as ArrayBuffer]);
      if (r.type === 'error') throw new LabError(`onnx engine: ${r.message}`);
      if (r.type !== 'result') throw new Error('onnx engine: unexpected reply from its session thread');
      const byName = new Map(r.outputs.map((o) => [o.name, o]));
      return this.outputs.map((n) => {
        const t = byName.get(n)!;
        if (n === 'hook_pos_embed') {
          if (t.dims[0] !== 1 || t.dims[1] !== T) throw new Error(`onnx engine: ${n} came back [${t.dims}], expected [1, ${T}, ...]`);
          return t.data;
        }
        if (t.dims[0] !== N) throw new Error(`onnx engine: ${n} came back [${t.dims}], expected [${N}, ...]`);
        if (N === B * T) return t.data;
        // Back to [B, T, ...]: row b's tokens at b * T, zeros after them.
        const d = t.data.length / N;
        const out = t.data instanceof Uint16Array ? new Uint16Array(B * T * d) : new Float32Array(B * T * d);
        for (let b = 0, at = 0; b < B; b++) {
          const len = lengths![b]!;
          out.set(t.data.subarray(at * d, (at + len) * d), b * T * d);
          at += len;
        }
        return out;
      });
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' });
    await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 5000).unref())]);
    await this.worker.terminate();
  }
}

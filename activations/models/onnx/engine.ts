/**
 * The onnx engine: a loaded model's forward to its hooks on ONNX Runtime's CPU kernels (onnxruntime-node,
 * which ships its native library inside the npm package). One session holds one copy of the weights and
 * runs its GEMMs on `threads` native threads, so a harvest on two cores needs no worker threads and no
 * second copy of the model; the tfjs model stays for everything else (planning, logits, training).
 *
 * Sessions run off the JS thread: while one batch is forwarded, the harvest loop writes the last one.
 * Output floats depend on the thread count only through what the kernels promise (MLAS splits a GEMM's
 * output tiles between threads, never a dot product), which the tests check; the store records the
 * engine, its version and the thread count, and a store made by another engine is another store.
 */
import { createRequire } from 'node:module';
import { InputError, UsageError } from '../../../lab/core/index.ts';
import type { HookName, LanguageModel } from '../../types.ts';
import { architecture } from '../architecture.ts';
import { TransformerModel } from '../load.ts';
import { transformerGraph } from './graph.ts';
import { encodeModel } from './proto.ts';

type Ort = typeof import('onnxruntime-node');
let ort: Ort | undefined;

/** onnxruntime-node, loaded on first use (its native library is 45 MB); a clear error when it cannot load. */
export async function loadOrt(): Promise<Ort> {
  if (ort) return ort;
  try {
    ort = (await import('onnxruntime-node')) as Ort;
    return ort;
  } catch (err) {
    throw new UsageError(`--engine onnx needs the onnxruntime-node package, which did not load here (${(err as Error).message.split('\n')[0]}); run with --engine tfjs`, 'engine');
  }
}

/** The installed onnxruntime-node version (for manifests), without loading its native library. */
export function onnxRuntimeVersion(): string {
  const req = createRequire(import.meta.url);
  return (req('onnxruntime-node/package.json') as { version: string }).version;
}

/** ONNX's protobuf limit: a model over 2 GiB would need external data files, which the engine does not write. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

export interface OnnxForwardOptions {
  /** Native threads for each operator (intra-op); default 1. */
  threads?: number;
  /** Hooks come back as f16 bits (Uint16Array; cast in the graph, toHalf's rounding) instead of float32. */
  float16?: boolean;
}

export class OnnxForward {
  private constructor(
    private readonly session: import('onnxruntime-node').InferenceSession,
    private readonly ort: Ort,
    readonly names: HookName[],
    readonly threads: number,
    private readonly vocab: number,
    private readonly outputs: string[],
  ) {}

  /** A session that computes `names` of `model` (a model loaded by loadModel, any registered architecture). */
  static async open(model: LanguageModel, names: HookName[], opts: OnnxForwardOptions = {}): Promise<OnnxForward> {
    if (!(model instanceof TransformerModel)) throw new UsageError('--engine onnx runs Hugging Face checkpoints loaded by loadModel; run this model with --engine tfjs', 'engine');
    const threads = opts.threads ?? 1;
    if (!(Number.isInteger(threads) && threads >= 1)) throw new UsageError(`--threads must be a positive integer, got ${threads}`, 'threads');
    const o = await loadOrt();
    const cfg = model.config;
    let spec: ReturnType<typeof transformerGraph> | undefined = transformerGraph({
      cfg, params: model.params, positional: architecture(cfg.architecture).positional, names,
      host: (t) => t.dataSync() as Float32Array, producer: 'neuronlab', float16: opts.float16,
    });
    const bytes = spec.initializers.reduce((s, t) => s + t.data.byteLength, 0);
    if (bytes > MAX_MODEL_BYTES) {
      throw new InputError(`${model.source.dir}: ${(bytes / 2 ** 30).toFixed(2)} GiB of weights exceed ONNX's 2 GiB model limit; run with --engine tfjs`, model.source.dir);
    }
    const outputs = spec.outputs.map((v) => v.name);
    let buf: Uint8Array | undefined = encodeModel(spec);
    spec = undefined;
    const session = await o.InferenceSession.create(buf, {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'extended',
    });
    buf = undefined;
    return new OnnxForward(session, o, names, threads, cfg.vocabSize, outputs);
  }

  /** One padded batch [B, T] of token ids; each hook's values [B, T, ...] (hook_pos_embed [1, T, d]) in `names` order (f16 bits with `float16`). */
  async forward(flat: Int32Array, B: number, T: number): Promise<(Float32Array | Uint16Array)[]> {
    if (flat.length !== B * T) throw new UsageError(`ids hold ${flat.length} values, not ${B} x ${T}`);
    const ids = new BigInt64Array(flat.length);
    for (let i = 0; i < flat.length; i++) {
      const id = flat[i]!;
      if (id < 0 || id >= this.vocab) throw new UsageError(`token id ${id} is outside the vocabulary [0, ${this.vocab})`);
      ids[i] = BigInt(id);
    }
    const r = await this.session.run({ ids: new this.ort.Tensor('int64', ids, [B, T]) });
    return this.outputs.map((n) => {
      const t = r[n]!;
      const want = n === 'hook_pos_embed' ? 1 : B;
      if (t.dims[0] !== want || t.dims[1] !== T) throw new Error(`onnx engine: ${n} came back [${t.dims}], expected [${want}, ${T}, ...]`);
      return t.data as Float32Array | Uint16Array;
    });
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

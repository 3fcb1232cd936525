/**
 * One forward request of a ForwardPool (forward-pool.ts) and its answer, computed on the thread that
 * holds the model: a pool worker (forward-worker.ts) or the pool's own thread. Its own module so the
 * worker and the pool share it without importing each other.
 */
import { tf } from '../../lab/core/backend.ts';
import type { LanguageModel } from '../types.ts';

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

/** One request's answer: each hook's values (in the forward's order) and the logits when asked. */
export interface ThreadAnswer {
  hooks: [string, HostTensor][];
  logits?: HostTensor;
}

/**
 * One request answered on the calling thread: what a worker runs, and what the pool's own thread runs
 * (the same code on the same backend, so a sub-batch gives the same floats on either).
 */
export function forwardOnThread(model: LanguageModel, req: PoolRequest): ThreadAnswer {
  const ids = tf.tensor2d(req.ids, [req.ids.length, req.ids[0]!.length], 'int32');
  try {
    const { logits, cache } = model.forward(ids, req.logits ? { names: req.names } : { names: req.names, logits: false });
    const hooks: [string, HostTensor][] = [...cache].map(([k, v]) => [k, { shape: [...v.shape], data: v.dataSync() as Float32Array }]);
    const out = req.logits ? { shape: [...logits.shape], data: logits.dataSync() as Float32Array } : undefined;
    tf.dispose([logits, ...cache.values()]);
    return { hooks, logits: out };
  } finally {
    ids.dispose();
  }
}

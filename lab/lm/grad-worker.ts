/**
 * Worker-thread side of lab/lm/grad-pool.ts: holds a copy of the model on its own wasm backend; each
 * request brings the current weights and a share of the batch and gets back that share's gradients.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createGpt2, type TransformerConfig } from '../../activations/index.ts';
import { initBackend, tf } from '../core/backend.ts';
import { batchGrads } from './grads.ts';
import { installPlainTransposedMatMul } from './wasm-matmul.ts';

const { config, backend } = workerData as { config: TransformerConfig; backend?: string };

interface Request {
  weights: Record<string, Float32Array>;
  inputs: Int32Array;
  targets: Int32Array;
  rows: number;
  context: number;
}

try {
  await initBackend(backend);
  if (tf.getBackend() === 'wasm') installPlainTransposedMatMul();
  const model = createGpt2(config, undefined, { seed: 0 });
  parentPort!.on('message', (req: Request) => {
    try {
      for (const [name, v] of model.variables) {
        // assign() shares the new tensor's data; the tensor itself must still be disposed, or every step
        // leaks a copy of the weights until the wasm heap (4 GB) is exhausted.
        const t = tf.tensor(req.weights[name]!, v.shape);
        v.assign(t);
        t.dispose();
      }
      const { loss, grads } = batchGrads(model, req.inputs, req.targets, req.rows, req.context);
      const out: Record<string, Float32Array> = {};
      // slice(): dataSync may return a view of wasm memory, which cannot be transferred.
      for (const [k, g] of Object.entries(grads)) out[k] = (g.dataSync() as Float32Array).slice();
      const value = loss.dataSync()[0]!;
      tf.dispose([loss, ...Object.values(grads)]);
      parentPort!.postMessage({ type: 'result', loss: value, grads: out }, Object.values(out).map((a) => a.buffer as ArrayBuffer));
    } catch (err) {
      parentPort!.postMessage({ type: 'error', message: (err as Error).message });
    }
  });
  parentPort!.postMessage({ type: 'ready' });
} catch (err) {
  parentPort!.postMessage({ type: 'error', message: (err as Error).message });
}

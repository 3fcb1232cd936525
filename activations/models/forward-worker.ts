/** Worker-thread side of forward-pool.ts: loads the model once, then answers forward requests. */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { loadModel } from './load.ts';

const { dir, backend } = workerData as { dir: string; backend?: string };

function post(msg: unknown, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

try {
  await initBackend(backend);
  const model = await loadModel(dir);
  parentPort!.on('message', (req: { ids: number[][]; names: string[]; logits: boolean }) => {
    try {
      const ids = tf.tensor2d(req.ids, [req.ids.length, req.ids[0]!.length], 'int32');
      const { logits, cache } = model.forward(ids, req.logits ? { names: req.names } : { names: req.names, logits: false });
      const hooks: [string, { shape: number[]; data: Float32Array }][] = [...cache].map(([k, v]) => [k, { shape: [...v.shape], data: v.dataSync() as Float32Array }]);
      const out = req.logits ? { shape: [...logits.shape], data: logits.dataSync() as Float32Array } : undefined;
      tf.dispose([ids, logits, ...cache.values()]);
      // Copy out of wasm memory before transferring: dataSync may return views of shared buffers.
      for (const h of hooks) h[1].data = h[1].data.slice();
      if (out) out.data = out.data.slice();
      post({ type: 'result', hooks, logits: out }, [...hooks.map((h) => h[1].data.buffer as ArrayBuffer), ...(out ? [out.data.buffer as ArrayBuffer] : [])]);
    } catch (err) {
      post({ type: 'error', message: (err as Error).message });
    }
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'error', message: (err as Error).message });
}

/** Worker-thread side of forward-pool.ts: loads the model once, then answers forward requests. */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../lab/core/backend.ts';
import { forwardOnThread, type PoolRequest } from './forward-request.ts';
import { loadModel } from './load.ts';

const { dir, backend } = workerData as { dir: string; backend?: string };

function post(msg: unknown, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

try {
  await initBackend(backend);
  const model = await loadModel(dir);
  parentPort!.on('message', (req: PoolRequest) => {
    try {
      const { hooks, logits: out } = forwardOnThread(model, req);
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

/** Worker-thread side of engine-pool.ts: trains the instances it is given and posts them back. */
import { parentPort, workerData } from 'node:worker_threads';
import { trainJs, type JsJob } from './engine-js.ts';

const job = workerData as JsJob;
try {
  const results = trainJs(job, (done, loss) => parentPort!.postMessage({ type: 'progress', done, loss }));
  parentPort!.postMessage({ type: 'done', results }, results.map((r) => r.params.buffer as ArrayBuffer));
} catch (err) {
  const e = err as Error;
  parentPort!.postMessage({ type: 'error', name: e.name, message: e.message, stack: e.stack });
}

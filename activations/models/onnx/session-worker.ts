/**
 * Worker-thread side of engine.ts: holds the ONNX Runtime session and runs it, so the thread that writes
 * the store is free while a batch is forwarded (onnxruntime-node's run blocks its calling thread). Takes
 * the model's bytes (moved here, not copied), answers 'ready' or 'error', then one reply per request.
 */
import { parentPort, workerData } from 'node:worker_threads';

const init = workerData as { bytes?: Uint8Array; threads: number };

type Request = { type: 'run'; ids: BigInt64Array; rows: BigInt64Array; B: number; T: number } | { type: 'close' };

function post(msg: unknown, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

async function serve(ort: typeof import('onnxruntime-node')): Promise<void> {
  const session = await ort.InferenceSession.create(init.bytes!, {
    intraOpNumThreads: init.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'extended',
  });
  // The session has its own copy of the weights now: let the model's bytes go.
  delete init.bytes;
  parentPort!.on('message', async (req: Request) => {
    if (req.type === 'close') {
      await session.release();
      parentPort!.close();
      return;
    }
    try {
      const r = await session.run({ ids: new ort.Tensor('int64', req.ids, [req.B, req.T]), rows: new ort.Tensor('int64', req.rows, [req.rows.length]) });
      const outputs = session.outputNames.map((n) => {
        const t = r[n]!;
        const data = t.data as Float32Array | Uint16Array;
        // A view into a larger or shared buffer is copied; a buffer of its own moves.
        const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !(data.buffer instanceof SharedArrayBuffer);
        return { name: n, dims: [...t.dims], data: own ? data : data.slice() };
      });
      post({ type: 'result', outputs }, outputs.map((o) => o.data.buffer as ArrayBuffer));
    } catch (err) {
      post({ type: 'error', message: (err as Error).message });
    }
  });
  post({ type: 'ready' });
}

const firstLine = (err: unknown) => (err as Error).message.split('\n')[0];
let ort: typeof import('onnxruntime-node') | undefined;
try {
  ort = await import('onnxruntime-node');
} catch (err) {
  post({ type: 'error', message: `--engine onnx needs the onnxruntime-node package, which did not load here (${firstLine(err)}); run with --engine tfjs` });
}
if (ort) await serve(ort).catch((err: unknown) => post({ type: 'error', message: `onnx engine: ${firstLine(err)}` }));

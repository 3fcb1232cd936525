/** Worker-thread side of probes/unit-pool.ts: one lab engine, the current hook's rows, units on request. */
import { parentPort, workerData } from 'node:worker_threads';
import { prepareRanking } from './engine.ts';
import { labEngine, restrictHook, runUnit, type EngineSpec, type UnitHook } from './unit.ts';
import type { UnitJob, WorkerReply } from './unit-messages.ts';
import type { Matrix } from './types.ts';
import { registerColumnMajor, transposeColumns, type ColumnMajor } from './fit/gather.ts';

const { spec } = workerData as { spec: EngineSpec };
const engine = labEngine(spec);
let hook: UnitHook | undefined;

function reply(msg: WorkerReply): void {
  parentPort!.postMessage(msg);
}

type HookMessage = { type: 'hook'; hook: string; Xtr: Matrix; Xte: Matrix; cm?: { tr: ColumnMajor; te: ColumnMajor } };

type TransposeMessage = { type: 'transpose'; id: number; X: Matrix; c: ColumnMajor; j0: number; j1: number };

parentPort!.on('message', async (msg: HookMessage | TransposeMessage | { type: 'unit'; id: number; job: UnitJob }) => {
  if (msg.type === 'transpose') {
    try {
      transposeColumns(msg.X, msg.c, msg.j0, msg.j1);
      reply({ type: 'done', id: msg.id });
    } catch (err) {
      reply({ type: 'error', id: msg.id, message: (err as Error).message });
    }
    return;
  }
  if (msg.type === 'hook') {
    hook = { hook: msg.hook, Xtr: msg.Xtr, Xte: msg.Xte };
    if (msg.cm) {
      registerColumnMajor(msg.Xtr, msg.cm.tr);
      registerColumnMajor(msg.Xte, msg.cm.te);
    }
    return;
  }
  const { id, job } = msg;
  try {
    if (!hook) throw new Error('probe worker got a unit before its hook');
    await prepareRanking([job.method]); // loads HiGHS once for osp
    const on = job.rowsTr && job.rowsTe ? restrictHook(hook, job.rowsTr, job.rowsTe) : hook;
    const rows = runUnit(engine, on, job.feature, job.method, job.ks, { seed: job.seed, fit: job.fit }, job.ytr, job.yte, job.counts);
    reply({ type: 'rows', id, rows });
  } catch (err) {
    const e = err as Error;
    reply({ type: 'error', id, message: e.message, stack: e.stack });
  }
});
reply({ type: 'ready' });

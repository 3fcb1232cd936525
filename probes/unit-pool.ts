/**
 * Sweep units on worker threads. A unit (one feature x hook x ranking method: rank, fit every k, score)
 * is independent of every other, and the lab's engine is single-threaded JavaScript/wasm, so a pool of
 * worker threads, each with its own engine, runs several units at once. A hook's train and test
 * activations are posted once per hook in shared memory (no copy per worker); each unit then sends only
 * its labels. Units go to whichever worker is idle, so uneven units (a k = 256 fit, an MIP ranking) do
 * not leave a thread waiting. Rows come back exactly as the in-thread path computes them.
 */
import type { Worker } from 'node:worker_threads';
import { LabError, startWorker } from '../lab/core/index.ts';
import type { Matrix } from './types.ts';
import { columnMajorFits, type EngineSpec, type SweepRow } from './unit.ts';
import { cachedColumnMajor, emptyColumnMajor, registerColumnMajor, type ColumnMajor } from './fit/gather.ts';
import type { UnitJob, WorkerReply } from './unit-messages.ts';

const WORKER = new URL('./unit-worker.ts', import.meta.url);

/** A copy of m whose values live in a SharedArrayBuffer (m itself when they already do). */
export function sharedMatrix(m: Matrix): Matrix {
  if (m.data.buffer instanceof SharedArrayBuffer) return m;
  const data = new Float32Array(new SharedArrayBuffer(m.data.byteLength));
  data.set(m.data);
  return { data, nRows: m.nRows, nCols: m.nCols };
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

export class UnitPool {
  private readonly slots: Slot[];
  private readonly waiting = new Map<number, { resolve: (rows: SweepRow[]) => void; reject: (e: Error) => void }>();
  /** Requests that are not units (setHook's transposes), by id. */
  private readonly chores = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private readonly queue: { id: number; job: UnitJob }[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  private constructor(workers: Worker[]) {
    this.slots = workers.map((worker) => ({ worker, busy: false }));
    for (const slot of this.slots) {
      slot.worker.on('message', (msg: WorkerReply) => this.onReply(slot, msg));
      slot.worker.on('error', (err) => this.fail(err));
      slot.worker.on('exit', (code) => {
        if (code !== 0) this.fail(new LabError(`probe worker exited with code ${code}`));
      });
    }
  }

  /** Starts `threads` workers (each builds its engine from `spec`) and waits until all are ready. */
  static async open(threads: number, spec: EngineSpec = {}): Promise<UnitPool> {
    const workers = Array.from({ length: Math.max(1, threads) }, () => startWorker(WORKER, { spec }));
    try {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              w.once('message', (m: WorkerReply) => (m.type === 'ready' ? resolve() : reject(new LabError(m.type === 'error' ? m.message : 'probe worker did not start'))));
              w.once('error', reject);
            }),
        ),
      );
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new UnitPool(workers);
  }

  get threads(): number {
    return this.slots.length;
  }

  /**
   * The hook every following unit runs on: its train and test rows, shared with the workers (and, for
   * `units` >= 2, a column-major copy of them, which the workers make together, each a range of the
   * columns). Call it only while no unit is in flight (the sweep finishes one hook before the next).
   */
  async setHook(hook: string, Xtr: Matrix, Xte: Matrix, units = 2): Promise<void> {
    if (this.waiting.size > 0 || this.queue.length > 0) throw new LabError('UnitPool.setHook while units are running');
    const tr = sharedMatrix(Xtr);
    const te = sharedMatrix(Xte);
    let cm: { tr: ColumnMajor; te: ColumnMajor } | undefined;
    if (columnMajorFits({ hook, Xtr: tr, Xte: te }, units)) {
      // A shared copy this process already made (another hook key on the same rows) is reused.
      const made = (X: Matrix) => {
        const c = cachedColumnMajor(X);
        return c && c.cm.buffer instanceof SharedArrayBuffer ? c : undefined;
      };
      const old = { tr: made(tr), te: made(te) };
      cm = { tr: old.tr ?? emptyColumnMajor(tr, true), te: old.te ?? emptyColumnMajor(te, true) };
      const jobs: Promise<void>[] = [];
      for (const [X, c, have] of [[tr, cm.tr, old.tr], [te, cm.te, old.te]] as const) {
        if (have) continue;
        const per = Math.ceil(X.nCols / this.slots.length);
        this.slots.forEach((slot, q) => {
          const j0 = q * per;
          const j1 = Math.min(X.nCols, j0 + per);
          if (j0 < j1) jobs.push(this.ask(slot, { type: 'transpose', X, c, j0, j1 }));
        });
      }
      await Promise.all(jobs);
      registerColumnMajor(tr, cm.tr);
      registerColumnMajor(te, cm.te);
    }
    const msg = { type: 'hook', hook, Xtr: tr, Xte: te, cm };
    for (const s of this.slots) s.worker.postMessage(msg);
  }

  /** Posts a message to one worker and resolves on its 'done' reply (used while no unit runs). */
  private ask(slot: Slot, msg: object): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.chores.set(id, { resolve, reject });
      slot.worker.postMessage({ ...msg, id });
    });
  }

  /** Runs one unit on the next idle worker; resolves with its rows. */
  run(job: UnitJob): Promise<SweepRow[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.queue.push({ id, job });
      this.waiting.set(id, { resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      const { id, job } = this.queue.shift()!;
      slot.busy = true;
      slot.worker.postMessage({ type: 'unit', id, job });
    }
  }

  private onReply(slot: Slot, msg: WorkerReply): void {
    if (msg.type === 'ready') return;
    const chore = this.chores.get(msg.id);
    if (chore) {
      this.chores.delete(msg.id);
      if (msg.type === 'error') chore.reject(new LabError(msg.message));
      else chore.resolve();
      return;
    }
    const w = this.waiting.get(msg.id);
    slot.busy = false;
    if (w) {
      this.waiting.delete(msg.id);
      if (msg.type === 'rows') w.resolve(msg.rows);
      else if (msg.type === 'error') {
        const err = new LabError(msg.message);
        if (msg.stack) err.stack = msg.stack;
        w.reject(err);
      }
    }
    this.dispatch();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of [...this.waiting.values(), ...this.chores.values()]) w.reject(err);
    this.waiting.clear();
    this.chores.clear();
    this.queue.length = 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

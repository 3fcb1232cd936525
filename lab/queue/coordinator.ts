/**
 * The coordinator's end of a queued run: claims the Redis database for one run (refusing a queue left
 * by another run unless told to clear it), publishes the run descriptor its workers follow, enqueues
 * jobs under stable ids and hands back each job's result from BullMQ's job events.
 *
 * Job ids are the unit's own hash, so a coordinator killed and rerun adds nothing twice: jobs finished
 * meanwhile are collected from Redis (results stay there until the run completes), jobs still waiting
 * or active are awaited, and jobs that failed are retried. Results travel back through Redis (the job's
 * return value), so only the coordinator writes the run directory; workers need read access to the
 * inputs (the store, the model folder) at the same path, nothing more.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { LabError, UsageError } from '../core/index.ts';
import {
  DESCRIPTOR_KEY, QUEUE_NAME, REFUSALS_KEY, connectChecked, labVersions, readDescriptor, whoAmI,
  type QueueAddress, type QueueSettings, type RunDescriptor,
} from './connection.ts';

export interface CoordinatorOptions {
  addr: QueueAddress;
  kind: RunDescriptor['kind'];
  out: string;
  /** Whatever fixes the run's results (config and input fingerprint): part of the run id. */
  configHash: string;
  settings: QueueSettings;
  /** Discard a queue left by another run instead of refusing. */
  clear?: boolean;
}

/** What a worker returns for every job: the result and who computed it. */
export interface JobReply<T> {
  result: T;
  worker: string;
}

interface Waiter {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  label: string;
}

const ALL_STATES = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
const REFUSAL_POLL_MS = 1000;
/**
 * Every this often, pending jobs are looked up in the completed and failed sets directly: BullMQ trims its
 * event stream (about 10,000 events), so a coordinator that fell behind (a long synchronous hook read)
 * could otherwise miss a completion and wait forever.
 */
const RECONCILE_MS = 5000;
const RECONCILE_BATCH = 500;

export class QueueCoordinator {
  private readonly waiters = new Map<string, Waiter>();
  /** Results (or failures) that arrived before run() asked for them. */
  private readonly early = new Map<string, { ok: true; value: unknown } | { ok: false; reason: string }>();
  private readonly adds: { name: string; data: unknown; opts: { jobId: string } }[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private stalls = 0;
  private collected = 0;
  private retried = 0;
  private readonly byWorker = new Map<string, number>();
  private readonly poll: NodeJS.Timeout;
  private readonly reconcile: NodeJS.Timeout;
  private reconciling = false;

  private constructor(
    private readonly client: Redis,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    readonly descriptor: RunDescriptor,
    /** Job states found on the queue at open (a resumed run): id -> 'completed' | 'failed'. */
    private readonly finishedAtOpen: Map<string, string>,
    private readonly opts: CoordinatorOptions,
  ) {
    events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, { ok: true, value: returnvalue }));
    events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, { ok: false, reason: failedReason }));
    events.on('stalled', () => this.stalls++);
    // Workers that refuse the run (another lab version) say so in a list; the run fails with their words.
    this.poll = setInterval(() => {
      client.lrange(REFUSALS_KEY, 0, -1).then((list) => {
        if (list.length === 0) return;
        const r = JSON.parse(list[0]!) as { worker: string; message: string };
        this.fail(new LabError(`worker ${r.worker} refused the run: ${r.message}`));
      }, () => undefined);
    }, REFUSAL_POLL_MS);
    this.poll.unref();
    this.reconcile = setInterval(() => void this.lookUpPending(), RECONCILE_MS);
    this.reconcile.unref();
  }

  private async lookUpPending(): Promise<void> {
    if (this.reconciling || this.waiters.size === 0) return;
    this.reconciling = true;
    try {
      const ids = [...this.waiters.keys()].slice(0, RECONCILE_BATCH);
      const pipe = this.client.pipeline();
      for (const id of ids) pipe.zscore(this.queue.keys.completed!, id).zscore(this.queue.keys.failed!, id);
      const res = (await pipe.exec()) ?? [];
      for (let i = 0; i < ids.length; i++) {
        const done = res[2 * i]?.[1] !== null;
        const failed = res[2 * i + 1]?.[1] !== null;
        if (!done && !failed) continue;
        const job = await this.queue.getJob(ids[i]!);
        if (!job) continue;
        this.settle(ids[i]!, done ? { ok: true, value: job.returnvalue } : { ok: false, reason: job.failedReason });
      }
    } catch {
      // A Redis hiccup: the next tick tries again (the events keep flowing meanwhile).
    } finally {
      this.reconciling = false;
    }
  }

  static async open(opts: CoordinatorOptions): Promise<QueueCoordinator> {
    const client = await connectChecked(opts.addr);
    const queue = new Queue(QUEUE_NAME, { connection: opts.addr.connection });
    let events: QueueEvents | undefined;
    try {
      const out = resolve(opts.out);
      const runId = createHash('sha1').update(`${opts.kind}\u0000${out}\u0000${opts.configHash}`).digest('hex').slice(0, 16);
      const old = await readDescriptor(client);
      const counts = await queue.getJobCounts(...ALL_STATES);
      const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
      const resuming = old?.run_id === runId;
      if (!resuming && jobs > 0) {
        if (!opts.clear) {
          const what = old ? `the ${old.kind} run for ${old.out} (started ${old.started} by ${old.coordinator})` : 'jobs of an unknown run';
          const open = counts.wait! + counts.active! + counts.delayed! + counts.prioritized! + counts['waiting-children']!;
          throw new UsageError(
            `--queue ${opts.addr.url} holds ${what}: ${open} jobs waiting or active, ${counts.completed} completed, ${counts.failed} failed; ` +
              'pass --clear-queue to discard it, or use another Redis database (redis://HOST:PORT/1)',
            'queue',
          );
        }
        await queue.obliterate({ force: true });
      }
      const descriptor: RunDescriptor = {
        run_id: runId, kind: opts.kind, out, lab: labVersions(), coordinator: whoAmI(),
        started: resuming ? old!.started : new Date().toISOString(), settings: opts.settings,
      };
      await client.del(REFUSALS_KEY);
      await client.set(DESCRIPTOR_KEY, JSON.stringify(descriptor));
      // Subscribe before looking at finished jobs, so a job finishing in between is seen by one or the other.
      // From the stream's current end, named explicitly: with the default '$' the events written between
      // here and QueueEvents' first read (the first jobs finishing fast) would be lost.
      const last = await client.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1);
      events = new QueueEvents(QUEUE_NAME, { connection: opts.addr.connection, lastEventId: last[0]?.[0] ?? '0-0' });
      await events.waitUntilReady();
      const finished = new Map<string, string>();
      if (resuming) {
        for (const state of ['completed', 'failed'] as const) {
          for (const id of await queue.getRanges([state], 0, -1)) finished.set(id, state);
        }
      }
      return new QueueCoordinator(client, queue, events, descriptor, finished, opts);
    } catch (err) {
      await Promise.allSettled([events?.close(), queue.close()]);
      client.disconnect();
      throw err;
    }
  }

  /** Runs one job (or collects it, when a previous coordinator of this run already got it done). */
  run<T>(name: string, id: string, data: unknown, label: string): Promise<JobReply<T>> {
    if (this.failure) return Promise.reject(this.failure);
    const p = new Promise<JobReply<T>>((resolve, reject) => this.waiters.set(id, { resolve: resolve as (v: unknown) => void, reject, label }));
    const early = this.early.get(id);
    const before = this.finishedAtOpen.get(id);
    if (early) {
      this.early.delete(id);
      this.settle(id, early);
    } else if (before === 'completed') {
      this.collected++;
      this.queue.getJob(id).then((job) => (job ? this.settle(id, { ok: true, value: job.returnvalue }) : this.enqueue(name, id, data)), (e) => this.fail(e));
    } else if (before === 'failed') {
      this.retried++;
      this.queue.getJob(id).then((job) => (job ? (job as Job).retry('failed') : this.enqueue(name, id, data)), (e) => this.fail(e));
    } else this.enqueue(name, id, data);
    return p;
  }

  /** Jobs are added in bulk, one round trip per batch the caller queued synchronously. */
  private enqueue(name: string, id: string, data: unknown): void {
    this.adds.push({ name, data, opts: { jobId: id } });
    this.flushing ??= Promise.resolve().then(async () => {
      while (this.adds.length > 0) {
        const batch = this.adds.splice(0, 1000);
        const s = this.opts.settings;
        await this.queue.addBulk(batch.map((b) => ({ ...b, opts: { ...b.opts, attempts: s.attempts, removeOnComplete: false, removeOnFail: false } })));
      }
      this.flushing = undefined;
    }).catch((e) => this.fail(e as Error));
  }

  private settle(id: string, r: { ok: true; value: unknown } | { ok: false; reason: string }): void {
    const w = this.waiters.get(id);
    if (!w) {
      this.early.set(id, r);
      return;
    }
    this.waiters.delete(id);
    if (r.ok) {
      const reply = r.value as JobReply<unknown>;
      this.byWorker.set(reply.worker, (this.byWorker.get(reply.worker) ?? 0) + 1);
      w.resolve(reply);
    } else w.reject(new LabError(`${w.label} failed: ${r.reason}`));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.values()) w.reject(this.failure);
    this.waiters.clear();
  }

  /** Where and how the jobs ran, for the run's manifest. */
  manifest(): Record<string, unknown> {
    return {
      url: this.opts.addr.url, queue: QUEUE_NAME, run_id: this.descriptor.run_id, ...this.opts.settings,
      stalled_jobs: this.stalls, collected_from_earlier_coordinator: this.collected, failed_jobs_retried: this.retried,
      jobs_by_worker: Object.fromEntries([...this.byWorker].sort(([a], [b]) => a.localeCompare(b))),
    };
  }

  /** After a complete run: empties the queue and takes the descriptor down (workers go back to waiting). */
  async finish(): Promise<void> {
    await this.flushing;
    await this.queue.obliterate({ force: true });
    await this.client.del(DESCRIPTOR_KEY, REFUSALS_KEY);
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    clearInterval(this.reconcile);
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.client.disconnect();
  }
}

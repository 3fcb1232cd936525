/**
 * `lab worker`: a long-running process that follows the run descriptor a coordinator publishes in Redis
 * and runs that run's jobs with BullMQ, holding each job's lock with the run's lock duration and stall
 * interval. Between runs it waits; a worker whose lab differs from the coordinator's refuses the run
 * (and says so in Redis, so the coordinator fails with its words instead of waiting for it).
 *
 * It serves both kinds of run: probe units (lab/queue/probe-jobs.ts) and harvest chunks
 * (lab/queue/harvest-jobs.ts), whichever the descriptor announces.
 *
 * Errors a user can act on (a missing store, another store at the same path) fail the job at once
 * (BullMQ's UnrecoverableError); anything else is retried up to the run's attempts.
 */
import { Worker, UnrecoverableError, type Job } from 'bullmq';
import { InputError, LabError } from '../core/index.ts';
import {
  QUEUE_NAME, REFUSALS_KEY, connectChecked, describeVersions, labVersions, readDescriptor, whoAmI,
  type QueueAddress, type RunDescriptor,
} from './connection.ts';
import { PROBE_JOB, ProbeUnitRunner, type ProbeJobData } from './probe-jobs.ts';
import { HARVEST_JOB, HarvestChunkRunner, type HarvestJobData } from './harvest-jobs.ts';
import type { JobReply } from './coordinator.ts';

export interface QueueWorkerOptions {
  addr: QueueAddress;
  /** Jobs run at once (one engine thread each). */
  concurrency: number;
  /** Resolves when the worker should stop: it finishes its jobs in flight, then returns. */
  stop: Promise<void>;
  log: (line: string) => void;
  /** How often the descriptor is read (ms): a new run is picked up within this. */
  pollMs?: number;
}

export interface QueueWorkerSummary {
  runs: number;
  completed: number;
  failed: number;
}

const sleep = (ms: number, stop: Promise<void>) => Promise.race([new Promise<void>((r) => setTimeout(r, ms).unref()), stop]);

/** Serves runs until `stop` resolves; throws (after telling the coordinator) when it must refuse a run. */
export async function runQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorkerSummary> {
  const client = await connectChecked(opts.addr);
  const me = whoAmI();
  const mine = labVersions();
  const probes = new ProbeUnitRunner(opts.concurrency);
  const harvests = new HarvestChunkRunner(opts.concurrency);
  const summary: QueueWorkerSummary = { runs: 0, completed: 0, failed: 0 };
  let stopping = false;
  void opts.stop.then(() => (stopping = true));
  const poll = opts.pollMs ?? 500;
  opts.log(`worker ${me}: waiting for runs on ${opts.addr.url} (concurrency ${opts.concurrency})`);
  try {
    while (!stopping) {
      const run = await readDescriptor(client);
      if (!run) {
        await sleep(poll, opts.stop);
        continue;
      }
      if (describeVersions(run.lab) !== describeVersions(mine)) {
        const message = `the coordinator ${run.coordinator} runs ${describeVersions(run.lab)}; this worker ${me} runs ${describeVersions(mine)}: install the same lab on every machine`;
        await client.rpush(REFUSALS_KEY, JSON.stringify({ worker: me, message }));
        throw new InputError(`run ${run.run_id} refused: ${message}`);
      }
      summary.runs++;
      opts.log(`worker ${me}: ${run.kind} run ${run.run_id} for ${run.out}`);
      probes.reset();
      const worker = serve(run, opts, { probes, harvests }, summary);
      // Serves this run until its descriptor goes (the run completed) or is replaced (another run).
      while (!stopping) {
        await sleep(poll, opts.stop);
        const now = await readDescriptor(client);
        if (!now || now.run_id !== run.run_id || JSON.stringify(now.settings) !== JSON.stringify(run.settings)) break;
      }
      await worker.close();
      opts.log(`worker ${me}: run ${run.run_id} over (${summary.completed} jobs done, ${summary.failed} failed so far)`);
    }
  } finally {
    await Promise.allSettled([probes.close(), harvests.close()]);
    client.disconnect();
  }
  return summary;
}

interface Runners {
  probes: ProbeUnitRunner;
  harvests: HarvestChunkRunner;
}

function serve(run: RunDescriptor, opts: QueueWorkerOptions, { probes, harvests }: Runners, summary: QueueWorkerSummary): Worker {
  const me = whoAmI();
  const s = run.settings;
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job): Promise<JobReply<unknown>> => {
      try {
        if (job.name === PROBE_JOB) return { result: await probes.run(job.data as ProbeJobData), worker: me };
        if (job.name === HARVEST_JOB) return { result: await harvests.run(job.data as HarvestJobData), worker: me };
        throw new UnrecoverableError(`${me}: unknown job '${job.name}' (this worker's lab is older than the coordinator's?)`);
      } catch (err) {
        const e = err as Error;
        if (e instanceof UnrecoverableError) throw e;
        // The worker's name goes into the message: it is what the coordinator prints.
        if (e instanceof LabError) throw new UnrecoverableError(`${me}: ${e.message}`);
        throw new Error(`${me}: ${e.message}`);
      }
    },
    {
      connection: opts.addr.connection, concurrency: opts.concurrency, name: me,
      lockDuration: s.lock_duration_ms, stalledInterval: s.stalled_interval_ms, maxStalledCount: s.max_stalled_count,
      // Results are collected by the coordinator from the completed set; it empties the queue at the end.
      removeOnComplete: { count: Number.MAX_SAFE_INTEGER }, removeOnFail: { count: Number.MAX_SAFE_INTEGER },
    },
  );
  worker.on('completed', () => summary.completed++);
  worker.on('failed', (job, err) => {
    summary.failed++;
    opts.log(`worker ${me}: job ${job?.id ?? '?'} failed: ${err.message}`);
  });
  worker.on('error', (err) => opts.log(`worker ${me}: ${err.message}`));
  return worker;
}

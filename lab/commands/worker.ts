/** `lab worker`: runs queued probe and harvest jobs (lab/queue) until SIGINT or SIGTERM. */
import { parseFlags, required, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';

const SPECS: FlagSpecs = {
  queue: { type: 'string', help: 'redis://HOST:PORT[/DB] of the coordinator\'s Redis (required)' },
  concurrency: { type: 'int', min: 1, max: 64, default: 1, help: 'jobs at once, each on its own engine or forward thread (one per core is the useful most)' },
  quiet: { type: 'boolean', help: 'no log lines on stderr' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function workerCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, SPECS);
  const f = parsed.flags;
  if (f.help) {
    process.stdout.write(usage('worker', 'Takes probe and harvest jobs from a BullMQ queue on Redis and runs them, run after run, until SIGINT or SIGTERM (finishing the jobs in flight). Harvest jobs need the run directory on a file system shared with the coordinator, at the same path.', SPECS) + '\n');
    return 0;
  }
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const { parseQueueUrl, runQueueWorker } = await import('../queue/index.ts');
  const addr = parseQueueUrl(required<string>(parsed, 'queue'));
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const onSignal = () => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const s = await runQueueWorker({
      addr, concurrency: f.concurrency as number, stop: stopped,
      log: (line) => { if (!f.quiet) process.stderr.write(line + '\n'); },
    });
    if (!f.quiet) process.stderr.write(`worker: stopped after ${s.runs} runs, ${s.completed} jobs done, ${s.failed} failed\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

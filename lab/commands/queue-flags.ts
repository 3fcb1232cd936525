/**
 * The --queue flags `lab probe` and `lab harvest` share (lab/queue): the Redis address, the queue left by
 * another run, and BullMQ's fault settings, recorded in the run's manifest.
 */
import type { FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';

export const queueFlags = (what: string): FlagSpecs => ({
  queue: { type: 'string', help: `redis://HOST:PORT[/DB]: run the ${what} as BullMQ jobs on \`lab worker\` processes (the same output as a local run)` },
  'clear-queue': { type: 'boolean', help: 'with --queue: discard jobs another run left on that queue' },
  attempts: { type: 'int', min: 1, default: 3, help: 'with --queue: tries per job after an ordinary error' },
  'lock-duration': { type: 'number', min: 0.1, default: 30, help: 'with --queue: seconds without a lock renewal before a job counts as stalled' },
  'stalled-interval': { type: 'number', min: 0.1, default: 30, help: 'with --queue: seconds between the workers\' stalled-job checks' },
  'max-stalled': { type: 'int', min: 0, default: 1, help: 'with --queue: stalls a job survives (a killed worker\'s job goes to another) before it fails' },
});

export interface QueueFlagValues {
  url: string;
  clearQueue: boolean;
  settings: { attempts: number; lock_duration_ms: number; stalled_interval_ms: number; max_stalled_count: number };
}

/** The parsed --queue flags, or undefined without --queue (where --clear-queue is refused). */
export function queueFlagValues(f: Record<string, unknown>): QueueFlagValues | undefined {
  if (f.queue === undefined) {
    if (f['clear-queue']) throw new UsageError('--clear-queue needs --queue', 'clear-queue');
    return undefined;
  }
  return {
    url: f.queue as string, clearQueue: Boolean(f['clear-queue']),
    settings: {
      attempts: f.attempts as number, lock_duration_ms: Math.round((f['lock-duration'] as number) * 1000),
      stalled_interval_ms: Math.round((f['stalled-interval'] as number) * 1000), max_stalled_count: f['max-stalled'] as number,
    },
  };
}

/**
 * Sweeps beyond one machine: probe units and harvest chunks as BullMQ jobs on a real Redis, run by `lab worker` processes on
 * any number of machines, with the tables byte-identical to a local run (lab/queue/README.md).
 */
export {
  parseQueueUrl, connectChecked, labVersions, describeVersions, DEFAULT_SETTINGS, QUEUE_NAME, DESCRIPTOR_KEY, REFUSALS_KEY, CONNECT_TIMEOUT_MS,
  type QueueAddress, type QueueSettings, type RunDescriptor,
} from './connection.ts';
export { QueueCoordinator, type CoordinatorOptions, type JobReply } from './coordinator.ts';
export { queuedSweep, ProbeUnitRunner, PROBE_JOB, type ProbeJobData, type QueuedSweepOptions } from './probe-jobs.ts';
export { queuedHarvest, HarvestChunkRunner, HARVEST_JOB, type HarvestJobData, type QueuedHarvestOptions } from './harvest-jobs.ts';
export { runQueueWorker, type QueueWorkerOptions, type QueueWorkerSummary } from './worker.ts';

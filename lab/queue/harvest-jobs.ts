/**
 * Model harvests on the queue. The coordinator is harvestModel itself (activations/harvest.ts, with a
 * RemoteChunks): it opens or resumes the store exactly as a local run does; here the chunks a local run
 * would make (activations/harvest-chunks.ts planChunks, sequence ranges) become one BullMQ job each. A
 * worker rebuilds the model, the dataset and the plan, runs the local loop over its chunk's span (the same
 * batches, split into the same sub-batches a local `--threads N` run forwards, so the same floats) and
 * writes the chunk's rows as a part file in the run directory (lab/queue/harvest-parts.ts); the coordinator
 * appends the parts to the store in chunk order with the same StoreWriter. The store is the local run's,
 * byte for byte. Workers must share the run directory's file system, at the same path: the token file
 * tells them whether they do.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError, LabError, writeFileAtomic } from '../core/index.ts';
import {
  ForwardPool, batchForward, configHash, harvestChunk, harvestModel, loadModel, makeDataset, planChunks, planModelHarvest,
  type ChunkSpan, type DatasetOptions, type FeatureDataset, type HarvestOptions, type HarvestResult, type LanguageModel, type ModelHarvestPlan,
} from '../../activations/index.ts';
import { QueueCoordinator } from './coordinator.ts';
import { describeVersions, labVersions, type QueueAddress, type QueueSettings } from './connection.ts';
import { PARTS_DIR, decodePart, encodePart, ensureToken, partPath, tokenPath } from './harvest-parts.ts';

export const HARVEST_JOB = 'harvest-chunk';

/** What a worker needs to remake a chunk, and what it checks it against. */
export interface HarvestJobData {
  model_dir: string;
  model_checksum: string;
  dataset: string;
  dataset_options: DatasetOptions;
  /** The resolved hook names (not the globs). */
  hooks: string[];
  options: Pick<HarvestOptions, 'seed' | 'maxTokens' | 'dtype' | 'quantisation' | 'aggregation' | 'batch' | 'chunkMb'>;
  /** The coordinator's tfjs backend and forward threads: each batch is split into that many sub-batches. */
  backend: string;
  forward_split: number;
  chunk: ChunkSpan;
  /** store.json's config_hash: a worker whose plan hashes differently refuses the job. */
  config_hash: string;
  run_id: string;
  /** The run directory (absolute) and the token the coordinator wrote there. */
  dir: string;
  token: string;
  lab: Record<string, string>;
}

/** What a worker returns: the part's checksum, checked by the coordinator against the file it reads. */
export interface HarvestReply {
  sha256: string;
  bytes: number;
}

export interface QueuedHarvestOptions extends Omit<HarvestOptions, 'remote'> {
  addr: QueueAddress;
  settings: QueueSettings;
  clearQueue?: boolean;
  /** How the workers rebuild the dataset: its registry name and options (makeDataset). */
  dataset: string;
  datasetOptions: DatasetOptions;
  backend: string;
}

/** harvestModel with every chunk made by `lab worker` processes; the same store as a local run. */
export async function queuedHarvest(model: LanguageModel, dataset: FeatureDataset, hookPatterns: string[], opts: QueuedHarvestOptions): Promise<HarvestResult> {
  let coordinator: QueueCoordinator | undefined;
  let split = 1;
  const parts = { from_workers: 0, found_on_disk: 0 };
  return harvestModel(model, dataset, hookPatterns, {
    ...opts,
    remote: {
      run: async ({ plan, store, dir: out, forwardThreads, append, chunkDone, progress }) => {
        // Absolute: the workers resolve it on their machines, from their own working directories.
        const dir = resolve(out);
        split = forwardThreads;
        const chunks = planChunks(dataset, plan, store);
        // What fixes the bytes beyond the store's config: the batches, the chunk size, the forward split.
        const runConfig = createHash('sha1').update(JSON.stringify([store.config_hash, plan.batchSize, plan.chunkRows, split, opts.backend])).digest('hex');
        coordinator = await QueueCoordinator.open({ addr: opts.addr, kind: 'harvest', out: dir, configHash: runConfig, settings: opts.settings, clear: opts.clearQueue });
        const runId = coordinator.descriptor.run_id;
        const token = ensureToken(dir);
        const lab = labVersions();
        const base = {
          model_dir: plan.init.model.dir as string, model_checksum: plan.init.model.checksum as string,
          dataset: opts.dataset, dataset_options: opts.datasetOptions, hooks: plan.names,
          options: { seed: opts.seed, maxTokens: opts.maxTokens, dtype: opts.dtype, quantisation: opts.quantisation, aggregation: opts.aggregation, batch: opts.batch, chunkMb: opts.chunkMb },
          backend: opts.backend, forward_split: split, config_hash: store.config_hash, run_id: runId, dir, token, lab,
        };
        // Every missing chunk is queued at once; they are appended strictly in order as they arrive.
        const ready = chunks.map((chunk) => {
          const path = partPath(dir, chunk.index);
          if (existsSync(path) && partFits(path, runId, chunk)) {
            parts.found_on_disk++;
            return Promise.resolve(path);
          }
          const data: HarvestJobData = { ...base, chunk };
          const id = createHash('sha1').update(`${runId}\u0000${chunk.index}\u0000${chunk.start}\u0000${chunk.end}`).digest('hex');
          return coordinator!.run<HarvestReply>(HARVEST_JOB, id, data, `chunk ${chunk.index} (sequences ${chunk.start}-${chunk.end - 1})`).then((reply) => {
            checkPart(path, reply.result, reply.worker);
            parts.from_workers++;
            return path;
          });
        });
        for (const p of ready) p.catch(() => undefined); // awaited in order below; a later failure must not go unhandled
        for (let i = 0; i < chunks.length; i++) {
          const path = await ready[i]!;
          const { header, seqs } = decodePart(path);
          if (!sameChunk(header.chunk, chunks[i]!)) throw new LabError(`${path} holds chunk ${JSON.stringify(header.chunk)}, expected ${JSON.stringify(chunks[i])}`);
          for (const s of seqs) append(s);
          chunkDone(chunks[i]!.index);
          rmSync(path, { force: true });
          progress(chunks[i]!.tokensBefore + chunks[i]!.tokens);
        }
        await coordinator.finish();
        rmSync(join(dir, PARTS_DIR), { recursive: true, force: true });
      },
      manifest: () => ({ ...(coordinator?.manifest() ?? {}), forward_split: split, parts }),
    },
  }).finally(() => coordinator?.close());
}

function sameChunk(a: ChunkSpan, b: ChunkSpan): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A part left by an earlier coordinator's workers: used when it is whole and of this run and chunk. */
function partFits(path: string, runId: string, chunk: ChunkSpan): boolean {
  try {
    const { header } = decodePart(path);
    return header.run_id === runId && sameChunk(header.chunk, chunk);
  } catch {
    return false;
  }
}

function checkPart(path: string, reply: HarvestReply, worker: string): void {
  if (!existsSync(path)) {
    throw new InputError(`worker ${worker} wrote ${path}, but the coordinator on ${hostname()} does not see it: the workers and the coordinator must share the run directory's file system`, path);
  }
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  if (sha !== reply.sha256) throw new InputError(`${path} on ${hostname()} is not the part worker ${worker} wrote (sha256 ${sha}, the worker's ${reply.sha256})`, path);
}

interface Slot {
  pool?: ForwardPool;
  key: string;
  busy: boolean;
}

interface Prepared {
  model: LanguageModel;
  dataset: FeatureDataset;
  plan: ModelHarvestPlan;
}

/**
 * The worker side: one forward thread per concurrency slot (its event loop stays free for BullMQ's lock
 * renewals), the model and dataset of the last harvest kept (each job of a run is a chunk of the same one).
 */
export class HarvestChunkRunner {
  private readonly slots: Slot[];
  private prepared: { key: string; value: Promise<Prepared> } | undefined;
  private readonly mine = labVersions();

  constructor(concurrency: number) {
    this.slots = Array.from({ length: concurrency }, () => ({ key: '', busy: false }));
  }

  async run(job: HarvestJobData): Promise<HarvestReply> {
    if (describeVersions(job.lab) !== describeVersions(this.mine)) {
      throw new InputError(`the coordinator runs ${describeVersions(job.lab)}; this worker runs ${describeVersions(this.mine)}: install the same lab on every machine`);
    }
    checkToken(job);
    const { dataset, plan } = await this.prepare(job);
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) throw new Error('harvest runner: more jobs at once than its concurrency');
    slot.busy = true;
    try {
      const key = JSON.stringify([job.model_dir, job.model_checksum, job.backend]);
      if (!slot.pool || slot.key !== key) {
        await slot.pool?.close();
        slot.pool = undefined;
        slot.pool = await ForwardPool.open(job.model_dir, 1, job.backend);
        slot.key = key;
      }
      const seqs = await harvestChunk(dataset, plan, batchForward(undefined, slot.pool, plan.names, job.forward_split), job.chunk);
      const bytes = encodePart(job.run_id, job.chunk, plan.hooks.map((h) => h.n_neurons), plan.features.length, seqs);
      writeFileAtomic(partPath(job.dir, job.chunk.index), bytes);
      return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
    } finally {
      slot.busy = false;
    }
  }

  /** The model, dataset and plan of the job's harvest, each checked against the coordinator's. */
  private prepare(job: HarvestJobData): Promise<Prepared> {
    const key = JSON.stringify([job.model_dir, job.model_checksum, job.dataset, job.dataset_options, job.hooks, job.options, job.backend]);
    if (this.prepared?.key === key) return this.prepared.value;
    const old = this.prepared?.value;
    const value = (async () => {
      await old?.then((p) => p.model.dispose(), () => undefined);
      if (!existsSync(job.model_dir)) {
        throw new InputError(`model ${job.model_dir} does not exist on ${hostname()}: workers load the model at the coordinator's path`, job.model_dir);
      }
      const { initBackend } = await import('../core/backend.ts');
      await initBackend(job.backend);
      const model = await loadModel(job.model_dir);
      if (model.source.checksum !== job.model_checksum) {
        model.dispose();
        throw new InputError(`model ${job.model_dir} on ${hostname()} has checksum ${model.source.checksum}; the coordinator's is ${job.model_checksum}: the worker sees another model at that path`, job.model_dir);
      }
      const dataset = makeDataset(job.dataset, model.tokenizer, job.dataset_options);
      const plan = planModelHarvest(model, dataset, job.hooks, { out: job.dir, ...job.options });
      const hash = configHash(plan.init.config);
      if (hash !== job.config_hash) {
        model.dispose();
        throw new InputError(`the harvest config on ${hostname()} hashes to ${hash}; the coordinator's store ${job.dir} to ${job.config_hash} (another dataset or model code?)`, job.dir);
      }
      return { model, dataset, plan };
    })();
    this.prepared = { key, value };
    value.catch(() => this.prepared?.value === value && (this.prepared = undefined));
    return value;
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.pool?.close()));
    await this.prepared?.value.then((p) => p.model.dispose(), () => undefined);
  }
}

/** A worker that does not see the coordinator's run directory must not write a part nobody reads. */
function checkToken(job: HarvestJobData): void {
  const p = tokenPath(job.dir);
  const have = existsSync(p) ? readFileSync(p, 'utf8').trim() : undefined;
  if (have === job.token) return;
  throw new InputError(
    `${hostname()} does not share the coordinator's file system: ${p} is ${have === undefined ? 'missing' : `another run's (${have}, not ${job.token})`}; ` +
      'lab harvest --queue needs every worker to see the run directory at the coordinator\'s path (NFS or a cluster file system): the workers write the chunks there',
    p,
  );
}

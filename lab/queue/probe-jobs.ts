/**
 * Probe sweeps on the queue. The coordinator is runSweep itself (probes/sweep.ts) with a remote runner:
 * it decides the units, skips the unprobeable ones and persists every unit file exactly as a local run
 * does; each remaining (feature, hook, method) unit becomes one BullMQ job. A worker rebuilds the unit's
 * inputs from the store (same split, same train and test rows) and runs it on the same worker threads a
 * local `--threads` sweep uses (probes/unit-pool.ts), so the rows are the local rows, bit for bit.
 *
 * The worker's event loop stays free while a unit computes on its thread, so BullMQ's lock renewals go
 * out on time however long a unit takes; only loading a hook (reading its activations) blocks it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { InputError } from '../core/index.ts';
import {
  UnitPool, checkProbeData, runSweep, splitFor, storeSource, takeLabels, takeRows,
  type ProbeSource, type SweepConfig, type SweepOptions, type SweepResult, type SweepRow, type UnitRequest,
} from '../../probes/index.ts';
import { QueueCoordinator } from './coordinator.ts';
import { describeVersions, labVersions, type QueueAddress, type QueueSettings } from './connection.ts';

export const PROBE_JOB = 'probe-unit';

/** What one probe job carries: the unit, the engine's options, and what the worker checks it against. */
export interface ProbeJobData {
  unit: UnitRequest;
  /** labEngine's options (probes/unit.ts EngineSpec): the per-ranking time limit. */
  spec: { timeLimitS?: number };
  lab: Record<string, string>;
}

export interface QueuedSweepOptions extends Omit<SweepOptions, 'remote' | 'threads'> {
  addr: QueueAddress;
  settings: QueueSettings;
  clearQueue?: boolean;
}

/** runSweep with every unit run by `lab worker` processes on the queue; same tables as a local run. */
export async function queuedSweep(config: SweepConfig, opts: QueuedSweepOptions): Promise<SweepResult> {
  const fingerprint = opts.source.fingerprint?.() ?? '';
  const configHash = createHash('sha1').update(JSON.stringify(config)).update(fingerprint).digest('hex');
  const coordinator = await QueueCoordinator.open({
    addr: opts.addr, kind: 'probe', out: opts.outDir, configHash, settings: opts.settings, clear: opts.clearQueue,
  });
  const lab = labVersions();
  const spec = { timeLimitS: opts.engine.workerSpec?.timeLimitS };
  try {
    const res = await runSweep(config, {
      ...opts,
      remote: {
        run: async (unit) => {
          const data: ProbeJobData = { unit, spec, lab };
          const reply = await coordinator.run<SweepRow[]>(PROBE_JOB, unit.id, data, `unit ${unit.feature} @ ${unit.hook} (${unit.method})`);
          return reply.result;
        },
        manifest: () => coordinator.manifest(),
      },
    });
    await coordinator.finish();
    return res;
  } finally {
    await coordinator.close();
  }
}

interface HookInputs {
  Xtr: { data: Float32Array; nRows: number; nCols: number };
  Xte: { data: Float32Array; nRows: number; nCols: number };
  labels: Record<string, Uint8Array>;
  train: Int32Array;
  test: Int32Array;
}

interface Slot {
  pool?: UnitPool;
  spec: string;
  hookKey: string;
  busy: boolean;
}

/**
 * The worker side: one engine thread per concurrency slot, the last few hooks' inputs cached (a hook is
 * read once per worker, not once per unit), every input checked against what the coordinator saw.
 */
export class ProbeUnitRunner {
  private readonly slots: Slot[];
  private readonly sources = new Map<string, ProbeSource>();
  private readonly hooks = new Map<string, HookInputs>();
  private readonly mine = labVersions();

  constructor(private readonly concurrency: number) {
    this.slots = Array.from({ length: concurrency }, () => ({ spec: '', hookKey: '', busy: false }));
  }

  async run(data: ProbeJobData): Promise<SweepRow[]> {
    const u = data.unit;
    if (describeVersions(data.lab) !== describeVersions(this.mine)) {
      throw new InputError(`the coordinator runs ${describeVersions(data.lab)}; this worker runs ${describeVersions(this.mine)}: install the same lab on every machine`);
    }
    const h = this.inputs(u);
    const y = h.labels[u.feature];
    if (!y) throw new InputError(`store ${u.config.activations} on ${hostname()} has no label '${u.feature}' on hook '${u.hook}'`, u.config.activations);
    const ytr = takeLabels(y, h.train);
    const yte = takeLabels(y, h.test);
    const counts = { n_train: ytr.length, n_test: yte.length, n_pos_train: sum(ytr), n_pos_test: sum(yte) };
    if (JSON.stringify(counts) !== JSON.stringify(u.counts)) {
      throw new InputError(`unit ${u.feature} @ ${u.hook}: this worker's split has ${JSON.stringify(counts)}, the coordinator's ${JSON.stringify(u.counts)}`);
    }
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) throw new Error('probe runner: more jobs at once than its concurrency');
    slot.busy = true;
    try {
      const spec = JSON.stringify(data.spec);
      if (!slot.pool || slot.spec !== spec) {
        await slot.pool?.close();
        slot.pool = await UnitPool.open(1, data.spec);
        slot.spec = spec;
        slot.hookKey = '';
      }
      const key = hookKey(u);
      if (slot.hookKey !== key) {
        await slot.pool.setHook(u.hook, h.Xtr, h.Xte);
        slot.hookKey = key;
      }
      return await slot.pool.run({ feature: u.feature, method: u.method, ks: u.ks, seed: u.config.seed, fit: u.config.fit, ytr, yte, counts });
    } finally {
      slot.busy = false;
    }
  }

  private source(u: UnitRequest): ProbeSource {
    const dir = u.config.activations;
    let s = this.sources.get(dir);
    if (!s) {
      if (!existsSync(dir)) {
        throw new InputError(`store ${dir} does not exist on ${hostname()}: workers read the store at the coordinator's path (share the file system, mounted at the same place)`, dir);
      }
      s = storeSource(dir);
      this.sources.set(dir, s);
    }
    const have = s.fingerprint?.() ?? '';
    if (have !== (u.config.source_fingerprint ?? '')) {
      throw new InputError(`store ${dir} on ${hostname()} is ${have}; the coordinator's is ${u.config.source_fingerprint}: the worker sees another store at that path`, dir);
    }
    return s;
  }

  private inputs(u: UnitRequest): HookInputs {
    const key = hookKey(u);
    const cached = this.hooks.get(key);
    if (cached) return cached;
    const source = this.source(u);
    const data = source.read(u.hook);
    checkProbeData(data, source.dir);
    const split = splitFor(data, u.features, u.config.testFrac, u.config.seed);
    const d = data.nNeurons;
    const h: HookInputs = {
      // In shared memory: the slots' engine threads read them without a copy each.
      Xtr: { data: takeRows(data.X, d, split.train, true), nRows: split.train.length, nCols: d },
      Xte: { data: takeRows(data.X, d, split.test, true), nRows: split.test.length, nCols: d },
      labels: data.labels, train: split.train, test: split.test,
    };
    // Keeps as many hooks as there are slots (units of several hooks can be in flight at once).
    while (this.hooks.size >= Math.max(2, this.concurrency)) this.hooks.delete(this.hooks.keys().next().value!);
    this.hooks.set(key, h);
    return h;
  }

  /** Forgets cached stores and hooks (a new run may bring a rewritten store at the same path). */
  reset(): void {
    this.sources.clear();
    this.hooks.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.pool?.close()));
  }
}

function hookKey(u: UnitRequest): string {
  return JSON.stringify([u.config.activations, u.config.source_fingerprint, u.hook, u.features, u.config.testFrac, u.config.seed]);
}

function sum(y: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < y.length; i++) n += y[i]!;
  return n;
}

/**
 * k-sparse probing sweeps: for every (feature, hook, method) rank neurons on the train split, fit an L2
 * logistic probe on the top k for every k, and score it on the test split. Each finished (feature, hook,
 * method) unit is written to its own file atomically, so a killed sweep restarts where it stopped; the
 * tables are assembled from the unit files at the end, in a fixed order whatever order they ran in.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as aq from 'arquero';
import { InputError, UsageError } from '../lab/core/index.ts';
import { Progress } from '../lab/core/index.ts';
import { LOCK_FILE, RunDir, configHash, lockRunDir, readJson, readManifest, unlockRunDir, writeJsonAtomic, type Manifest } from '../lab/core/index.ts';
import { hardNegativeColumns, hookGlobMatcher, type ProbeData } from '../activations/index.ts';
import type { FitOptions, Matrix } from './types.ts';
import type { RankMethod } from './rank/index.ts';
import { splitBySequence, takeLabels, takeRows, type Split } from './split.ts';
import { UnitPool } from './unit-pool.ts';
import { contrastFeatures, contrastRows, stratifyColumns, type Contrast, type ContrastRows } from './contrast.ts';
import { columnMajorHook, emptyRow, METRIC_NAMES, restrictHook, runUnit, type Counts, type ProbeEngine, type SweepRow, type UnitHook } from './unit.ts';

export { labEngine, METRIC_NAMES, runUnit, type ProbeEngine, type RowStatus, type SweepRow, type UnitHook } from './unit.ts';


/** Where activations come from: the activation store in production, synthetic data in tests. */
export interface ProbeSource {
  /** Resolved path (recorded in the manifest; the classifier reopens it). */
  dir: string;
  hooks(): string[];
  /** Label names and layer width of a hook, known without reading its activations. */
  features(hook: string): string[];
  width(hook: string): number;
  read(hook: string): ProbeData;
  /** Identifies the stored data (e.g. the store manifest's creation time), so a resume notices new data. */
  fingerprint?(): string;
}

export interface SweepConfig {
  activations: string;
  /** 'all' or explicit names; explicit names that are missing or one-class are errors, not skips. */
  features: 'all' | string[];
  /** Comma-separated glob patterns over hook names ('*' matches any run of characters). */
  hooks: string;
  methods: RankMethod[];
  ks: number[];
  /** Whether --k was given: then a k wider than a layer is an error; the default list is clipped. */
  ksExplicit: boolean;
  testFrac: number;
  seed: number;
  minPosTrain: number;
  minPosTest: number;
  fit: FitOptions;
  /**
   * 'hard-negatives': each feature is probed on its own rows and its hard negatives' only
   * (probes/contrast.ts). Absent for the plain sweep, so plain configs hash as they always did.
   */
  contrast?: Exclude<Contrast, 'all'>;
  source_fingerprint?: string;
}

export interface SweepResult {
  rows: SweepRow[];
  manifest: Manifest;
  /** Units found finished on disk and not recomputed. */
  resumed: number;
  computed: number;
}

export interface SweepOptions {
  outDir: string;
  source: ProbeSource;
  engine: ProbeEngine;
  /** Discard an existing run in outDir (needed when its config differs). */
  restart?: boolean;
  silent?: boolean;
  command?: string;
  /** Called after each unit is persisted (tests use it to interrupt a sweep). */
  onUnit?: (done: number, total: number) => void;
  /**
   * Worker threads running units (probes/unit-pool.ts); default 1 (this thread). Needs an engine with a
   * workerSpec (labEngine); the rows are the same as on one thread, only their order of completion differs.
   */
  threads?: number;
  /**
   * Runs the units somewhere else (lab/queue: BullMQ workers on other machines). The sweep still decides
   * what to run, skips and persists exactly as locally; only the rank-fit-score step goes to `remote`.
   */
  remote?: RemoteUnits;
}

/** One unit as the sweep hands it to a remote runner: everything a worker needs to rebuild its inputs. */
export interface UnitRequest {
  /** The unit file's name (a hash of hook, feature and method): a stable job id. */
  id: string;
  hook: string;
  feature: string;
  method: RankMethod;
  ks: number[];
  /** The hook's feature list: the split is stratified on every one of them, so a worker needs it. */
  features: string[];
  counts: Counts;
  config: SweepConfig;
}

export interface RemoteUnits {
  run(unit: UnitRequest): Promise<SweepRow[]>;
  /** What the manifest records about where the units ran. */
  manifest(): Record<string, unknown>;
}

/** Compiles comma-separated globs; '*' is the only wildcard, everything else is literal (the activations room's matcher). */
export function hookMatcher(pattern: string): (hook: string) => boolean {
  return hookGlobMatcher(pattern);
}

/** Checks the shapes and values of one hook's data; every error names the hook and what is wrong. */
export function checkProbeData(d: ProbeData, where: string): void {
  const ctx = `${where}: hook '${d.hook}'`;
  if (d.X.length !== d.nRows * d.nNeurons) {
    throw new InputError(`${ctx}: activations hold ${d.X.length} values, expected ${d.nRows} rows x ${d.nNeurons} neurons`, where);
  }
  if (d.seqIds.length !== d.nRows) throw new InputError(`${ctx}: ${d.seqIds.length} sequence ids for ${d.nRows} rows`, where);
  for (const [name, y] of Object.entries(d.labels)) {
    if (y.length !== d.nRows) throw new InputError(`${ctx}: label '${name}' has ${y.length} rows, activations have ${d.nRows}`, where);
    for (let r = 0; r < y.length; r++) {
      if (y[r] !== 0 && y[r] !== 1) throw new InputError(`${ctx}: label '${name}' row ${r} is ${y[r]}, not 0 or 1`, where);
    }
  }
  for (let i = 0; i < d.X.length; i++) {
    if (!Number.isFinite(d.X[i]!)) {
      const r = Math.floor(i / d.nNeurons);
      throw new InputError(`${ctx}: activation at row ${r}, neuron ${i - r * d.nNeurons} is ${d.X[i]} (NaN or infinite)`, where);
    }
  }
}

function unitKey(hook: string, feature: string, method: string): string {
  return `${hook}\u0000${feature}\u0000${method}`;
}

function unitFile(key: string): string {
  return createHash('sha1').update(key).digest('hex').slice(0, 20) + '.json';
}

/** Config fields that decide the results; a resume must match them exactly. */
function configDiff(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/** Prepares outDir: refuses to mix configs, clears it on restart, returns the units already done. */
function prepareOutDir(
  outDir: string, config: SweepConfig, restart: boolean, hash: string,
): { units: Map<string, SweepRow[]>; hooks: Record<string, HookInfo> } {
  const unitsDir = join(outDir, 'units');
  const done = new Map<string, SweepRow[]>();
  let hooks: Record<string, HookInfo> = {};
  if (existsSync(join(outDir, 'manifest.json'))) {
    const old = readManifest(outDir, { allowPartial: true });
    if (old.kind !== 'probe') {
      throw new UsageError(`--out ${outDir} holds a '${old.kind}' run, not a probe sweep: choose another --out`, 'out');
    }
    const diff = configDiff(old.config, config as unknown as Record<string, unknown>);
    if (diff.length > 0 && !restart) {
      throw new UsageError(
        `--out ${outDir} holds a probe sweep with a different config (${diff.join(', ')}); ` +
          'pass --restart to discard it, or choose another --out',
        'out',
      );
    }
    if (restart) rmSync(unitsDir, { recursive: true, force: true });
    else hooks = (old.hooks as Record<string, HookInfo> | undefined) ?? {};
  } else if (existsSync(outDir) && readdirSync(outDir).some((n) => n !== LOCK_FILE && !n.includes('.tmp-'))) {
    throw new UsageError(`--out ${outDir} exists, is not empty and is not a run directory: choose another --out`, 'out');
  }
  mkdirSync(unitsDir, { recursive: true });
  for (const f of readdirSync(unitsDir)) {
    if (!f.endsWith('.json')) continue; // leftover temp files of a killed write
    const u = readJson<{ key: string; config_hash?: string; rows: SweepRow[] }>(join(unitsDir, f));
    // A unit of another config (a sweep that ran beside this one, or one from before unit files carried
    // the hash) is not this sweep's result: it is removed and computed again.
    if (u.config_hash !== hash || typeof u.key !== 'string' || !Array.isArray(u.rows) || unitFile(u.key) !== f) {
      rmSync(join(unitsDir, f), { force: true });
      continue;
    }
    done.set(u.key, u.rows);
  }
  return { units: done, hooks };
}

function countPos(y: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < y.length; i++) n += y[i]!;
  return n;
}

interface HookData {
  data: ProbeData;
  split: Split;
  Xtr: Matrix;
  Xte: Matrix;
}

/** Rebuilds a hook's split exactly as the sweep made it (the classifier calls this too). */
export function splitFor(data: ProbeData, features: string[], testFrac: number, seed: number, contrast?: Contrast): Split {
  const labels: Record<string, Uint8Array> = {};
  for (const f of stratifyColumns(features, contrast)) labels[f] = data.labels[f]!;
  return splitBySequence(data.seqIds, { testFrac, seed, labels });
}

/** The features a config selects on one hook, checked against what the hook holds. */
export function selectFeatures(data: ProbeData, features: 'all' | string[], where: string): string[] {
  const have = Object.keys(data.labels).sort();
  if (features === 'all') return have;
  for (const f of features) {
    if (!(f in data.labels)) {
      throw new UsageError(`--features: '${f}' is not a label of hook '${data.hook}' in ${where} (has: ${have.join(', ')})`, 'features');
    }
  }
  return features;
}

function loadHook(source: ProbeSource, hook: string, config: SweepConfig, features: string[], shared = false): HookData {
  const data = source.read(hook);
  checkProbeData(data, source.dir);
  if (data.nNeurons !== source.width(hook)) {
    throw new InputError(`${source.dir}: hook '${hook}' reads back ${data.nNeurons} neurons, its manifest says ${source.width(hook)}`, source.dir);
  }
  selectFeatures(data, features, source.dir);
  const split = splitFor(data, features, config.testFrac, config.seed, config.contrast);
  // In shared memory when worker threads will read them (no second copy).
  const Xtr = { data: takeRows(data.X, data.nNeurons, split.train, shared), nRows: split.train.length, nCols: data.nNeurons };
  const Xte = { data: takeRows(data.X, data.nNeurons, split.test, shared), nRows: split.test.length, nCols: data.nNeurons };
  return { data, split, Xtr, Xte };
}

/** The k values used on a layer of `width` neurons: an explicit k that does not fit is an error. */
export function ksFor(config: SweepConfig, hook: string, width: number): number[] {
  const over = config.ks.filter((k) => k > width);
  if (over.length > 0 && config.ksExplicit) {
    throw new UsageError(`--k ${over.join(',')} exceeds the ${width} neurons of hook '${hook}'`, 'k');
  }
  return config.ks.filter((k) => k <= width);
}

/** Why a feature cannot be probed on this split, or '' when it can. */
function skipReason(c: Counts, nPosAll: number, nRows: number, config: SweepConfig): string {
  if (nPosAll === 0 || nPosAll === nRows) return `one class only (${nPosAll} positives in ${nRows} rows)`;
  const nNegTrain = c.n_train - c.n_pos_train;
  const nNegTest = c.n_test - c.n_pos_test;
  const { minPosTrain: a, minPosTest: b } = config;
  if (c.n_pos_train < a) return `too few positives in train (${c.n_pos_train} < ${a})`;
  if (c.n_pos_test < b) return `too few positives in test (${c.n_pos_test} < ${b})`;
  if (nNegTrain < a) return `too few negatives in train (${nNegTrain} < ${a})`;
  if (nNegTest < b) return `too few negatives in test (${nNegTest} < ${b})`;
  return '';
}

interface HookInfo {
  width: number;
  features: string[];
  ks: number[];
  n_train?: number;
  n_test?: number;
  unbalanced?: string[];
  toy?: ProbeData['toy'];
}

/** Runs (or resumes) a sweep into outDir and writes sweep.csv, sweep.json and the manifest. */
export async function runSweep(config: SweepConfig, opts: SweepOptions): Promise<SweepResult> {
  const { outDir, source, engine } = opts;
  if (source.fingerprint) config = { ...config, source_fingerprint: source.fingerprint() };
  if (config.contrast && opts.remote) {
    throw new UsageError('--contrast hard-negatives does not run on --queue (its units carry row subsets the queue workers do not rebuild): run it locally', 'contrast');
  }
  const hooks = source.hooks().filter(hookMatcher(config.hooks));
  if (hooks.length === 0) {
    throw new UsageError(`--hooks '${config.hooks}' matches none of the hooks in ${source.dir}: ${source.hooks().join(', ')}`, 'hooks');
  }
  if (config.features !== 'all') {
    if (config.features.length === 0 || config.features.some((f) => f === '')) {
      throw new UsageError(`--features needs at least one feature name (or 'all'); got '${config.features.join(',')}'`, 'features');
    }
    const twice = config.features.filter((f, i) => config.features.indexOf(f) !== i);
    if (twice.length) throw new UsageError(`--features lists ${[...new Set(twice)].map((f) => `'${f}'`).join(', ')} more than once`, 'features');
  }
  // Everything that can be checked without reading activations is checked before any work starts.
  const info = new Map<string, HookInfo>();
  for (const hook of hooks) {
    const have = source.features(hook);
    const features = config.features === 'all' ? have.slice().sort() : config.features;
    for (const f of features) {
      if (!have.includes(f)) {
        throw new UsageError(`--features: '${f}' is not a label of hook '${hook}' in ${source.dir} (has: ${have.join(', ')})`, 'features');
      }
    }
    const probed = config.contrast ? contrastFeatures(have, config.features, hook, source.dir) : features;
    const width = source.width(hook);
    info.set(hook, { width, features: probed, ks: ksFor(config, hook, width) });
  }
  // The lock comes before anything in outDir is read or removed: a second sweep (or a --restart) into
  // the same folder is refused instead of mixing its units with this one's.
  lockRunDir(outDir, opts.command);
  let previous: ReturnType<typeof prepareOutDir>, run: RunDir;
  const hash = configHash(config as unknown as Record<string, unknown>);
  try {
    previous = prepareOutDir(outDir, config, Boolean(opts.restart), hash);
    run = RunDir.begin(outDir, { kind: 'probe', seed: config.seed, config: config as unknown as Record<string, unknown>, command: opts.command, prepared: true });
  } finally {
    unlockRunDir(outDir); // RunDir.begin holds its own count until finish()
  }
  const done = previous.units;
  const resumed = done.size;

  const todo = new Map<string, Array<[string, RankMethod]>>();
  let total = 0;
  for (const hook of hooks) {
    const list: Array<[string, RankMethod]> = [];
    for (const f of info.get(hook)!.features) for (const m of config.methods) if (!done.has(unitKey(hook, f, m))) list.push([f, m]);
    todo.set(hook, list);
    total += list.length;
  }
  const progress = new Progress({ label: 'probe', total, unit: 'unit', silent: opts.silent });
  let computed = 0;
  const t0 = performance.now();
  const remote = opts.remote;
  const threads = remote ? 0 : Math.max(1, Math.min(opts.threads ?? 1, total));
  if (threads > 1 && !engine.workerSpec) throw new UsageError('a sweep on several threads needs the lab engine (labEngine)', 'threads');
  // The workers start while the first hook's activations load.
  const remoteRuns: Promise<void>[] = [];
  const poolStart = threads > 1 ? UnitPool.open(threads, engine.workerSpec) : undefined;
  poolStart?.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  const persist = (hook: string, feature: string, method: RankMethod, rows: SweepRow[]) => {
    const key = unitKey(hook, feature, method);
    writeJsonAtomic(join(outDir, 'units', unitFile(key)), { key, config_hash: hash, rows });
    done.set(key, rows);
    computed++;
    progress.tick(1, `${hook} ${feature} ${method}`);
    opts.onUnit?.(computed, total);
  };
  try {
    for (const hook of hooks) {
      const list = todo.get(hook)!;
      const hi = info.get(hook)!;
      const old = previous.hooks[hook];
      if (list.length === 0) {
        if (old) info.set(hook, { ...old, ...hi });
        continue;
      }
      const h = loadHook(source, hook, config, hi.features, threads > 1);
      Object.assign(hi, { n_train: h.split.train.length, n_test: h.split.test.length, unbalanced: h.split.unbalanced, toy: h.data.toy });
      const unit: UnitHook = { hook, Xtr: h.Xtr, Xte: h.Xte };
      const pool = await poolStart;
      // Contrast units read row subsets of their own: a column-major copy of the hook would go unused.
      const units = config.contrast ? 0 : list.length;
      if (pool) await pool.setHook(hook, h.Xtr, h.Xte, units);
      else columnMajorHook(unit, units);
      const running: Promise<void>[] = [];
      for (const feature of new Set(list.map(([f]) => f))) {
        const y = h.data.labels[feature]!;
        // Under the contrast, the feature's own rows and its hard negatives' on each side, else all.
        const cr: ContrastRows | undefined = config.contrast ? contrastRows(h.data.labels, feature, h.split) : undefined;
        const ytr = takeLabels(y, cr ? cr.trainRows : h.split.train);
        const yte = takeLabels(y, cr ? cr.testRows : h.split.test);
        const counts: Counts = { n_train: ytr.length, n_test: yte.length, n_pos_train: countPos(ytr), n_pos_test: countPos(yte) };
        const nAll = cr ? ytr.length + yte.length : y.length;
        let reason = skipReason(counts, cr ? counts.n_pos_train + counts.n_pos_test : countPos(y), nAll, config);
        if (reason && cr) reason += `, among the ${nAll} rows of '${feature}' and its hard negatives`;
        if (reason.startsWith('one class') && config.features !== 'all') {
          throw new InputError(`feature '${feature}' on hook '${hook}' in ${source.dir} has ${reason}: a probe needs both classes`, source.dir);
        }
        for (const [f, method] of list) {
          if (f !== feature) continue;
          if (reason) persist(hook, feature, method, [emptyRow(feature, hook, method, counts, 'skipped', reason)]);
          else if (remote) {
            const id = unitFile(unitKey(hook, feature, method)).replace(/\.json$/, '');
            const req: UnitRequest = { id, hook, feature, method, ks: hi.ks, features: hi.features, counts, config };
            remoteRuns.push(remote.run(req).then((rows) => persist(hook, feature, method, rows)));
          } else if (pool) {
            const rows = cr ? { rowsTr: cr.tr, rowsTe: cr.te } : {};
            running.push(pool.run({ feature, method, ks: hi.ks, seed: config.seed, fit: config.fit, ytr, yte, counts, ...rows }).then((rows) => persist(hook, feature, method, rows)));
          } else persist(hook, feature, method, runUnit(engine, cr ? restrictHook(unit, cr.tr, cr.te) : unit, feature, method, hi.ks, config, ytr, yte, counts));
        }
      }
      // Every unit of this hook settles (and is persisted if it finished) before the first error is thrown.
      const settled = await Promise.allSettled(running);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    // Remote units of every hook run at once; the first failure ends the sweep (finished results stay
    // on the queue for a rerun to collect).
    await new Promise<void>((resolve, reject) => {
      let left = remoteRuns.length;
      if (left === 0) resolve();
      for (const p of remoteRuns) p.then(() => --left === 0 && resolve(), reject);
    });
  } finally {
    await (await poolStart?.catch(() => undefined))?.close();
  }
  if (total > 0) progress.finish();
  run.timing('sweep_s', (performance.now() - t0) / 1000);

  const rows: SweepRow[] = [];
  for (const hook of hooks) {
    for (const f of info.get(hook)!.features) for (const m of config.methods) rows.push(...done.get(unitKey(hook, f, m))!);
  }
  writeTables(run, rows, config.contrast ?? 'all');
  const manifest = run.finish({
    activations: source.dir,
    // Which columns were each probed feature's negatives (absent: every other row of the hook).
    ...(config.contrast ? { contrast: { kind: config.contrast, negatives: contrastNegatives(info) } } : {}),
    hooks: Object.fromEntries(info),
    units: { total: done.size, resumed, computed },
    threads,
    ...(remote ? { queue: remote.manifest() } : {}),
  });
  return { rows, manifest, resumed, computed };
}

export const SWEEP_COLUMNS = [
  'feature', 'hook', 'method', 'k', ...METRIC_NAMES, 'neurons', 'coefs', 'intercept',
  'n_train', 'n_test', 'n_pos_train', 'n_pos_test', 'converged', 'optimality_gap', 'status', 'skip_reason', 'contrast',
] as const;

function contrastNegatives(info: Map<string, HookInfo>): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const hi of info.values()) for (const f of hi.features) out[f] = hardNegativeColumns(f);
  return out;
}

/** sweep.csv (with `contrast`: which rows were the negatives, 'all' or 'hard-negatives') and sweep.json. */
function writeTables(run: RunDir, rows: SweepRow[], contrast: Contrast): void {
  const flat = rows.map((r) => ({
    ...r,
    contrast,
    neurons: r.neurons.join(' '),
    coefs: r.coefs.map((c) => Number(c.toPrecision(6))).join(' '),
  }));
  const table = aq.from(flat).select(...SWEEP_COLUMNS);
  run.write('sweep.csv', aq.toCSV(table));
  run.writeJson('sweep.json', rows);
}

/** Reads a finished probe run: its manifest and its rows. */
export function readSweep(dir: string): { manifest: Manifest; config: SweepConfig; rows: SweepRow[] } {
  const manifest = readManifest(dir, { kind: 'probe' });
  const rows = readJson<SweepRow[]>(join(dir, 'sweep.json'));
  if (!Array.isArray(rows)) throw new InputError(`${join(dir, 'sweep.json')} is not a list of sweep rows`, join(dir, 'sweep.json'));
  return { manifest, config: manifest.config as unknown as SweepConfig, rows };
}

/**
 * `loadRun(dir)`: any run directory the lab writes, as arquero tables. Every table file the manifest
 * lists is loaded; each kind also gets the tables its charts need, under fixed names:
 *
 *   toy        toy_instances, toy_features, toy_geometry (m = 2), toy_neuron_features (relu-hidden, abs)
 *   toy-sweep  phase
 *   probe      sweep
 *   classify   classify_features, classify_neurons, classify_selectivity (long), toy_confusion (weights x activations, from classify.json)
 *   recall     knockout (also enrichment, extraction: lab/recall's tables)
 *   harvest    harvest_hooks (one row per hook: rows, neurons, dtype), harvest_features (positives per feature)
 *   capacity   capacity (one row per feature and hook), summary (Spearman rho), toy (when given a toy run)
 *
 * A missing, malformed or partial run directory is an InputError naming the file at fault.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { InputError } from '../lab/core/index.ts';
import { readJson, readManifest, type Manifest } from '../lab/core/index.ts';
import { readTable } from './table-io.ts';
import { toyTables, type ToyInstance } from './toy-tables.ts';
import { harvestTables } from './harvest-tables.ts';

export const RUN_KINDS = ['toy', 'toy-sweep', 'harvest', 'probe', 'classify', 'recall', 'capacity'] as const;

export interface LoadedRun {
  dir: string;
  name: string;
  kind: string;
  manifest: Manifest;
  tables: Record<string, ColumnTable>;
  /** The toy run's instances as written (W, W1, ...), for notebooks that want the raw weights. */
  toyInstances?: ToyInstance[];
  /** Facts that are not tables (dataset name, model, store layout), shown in the report's header. */
  facts: Record<string, string | number>;
}

const TABLE_EXTS = new Set(['.csv', '.arrow']);

export function loadRun(dir: string, opts: { allowPartial?: boolean } = {}): LoadedRun {
  if (!existsSync(dir)) throw new InputError(`run directory ${dir} does not exist`, dir);
  if (!statSync(dir).isDirectory()) throw new InputError(`${dir} is not a directory (expected a run directory)`, dir);
  const manifest = readManifest(dir, { allowPartial: opts.allowPartial });
  const run: LoadedRun = { dir, name: basename(dir.replace(/\/+$/, '')) || dir, kind: manifest.kind, manifest, tables: {}, facts: {} };
  loadListedTables(run);
  switch (manifest.kind) {
    case 'toy':
      loadToy(run);
      break;
    case 'toy-sweep':
      need(run, 'phase');
      break;
    case 'probe':
      need(run, 'sweep');
      break;
    case 'classify':
      loadClassify(run);
      break;
    case 'recall':
      need(run, 'knockout');
      break;
    case 'capacity':
      need(run, 'capacity');
      need(run, 'summary');
      break;
    case 'harvest':
      Object.assign(run.tables, harvestTables(dir, run.facts, { allowPartial: opts.allowPartial }));
      break;
    default:
      // Other kinds (an LM run, a compressor run) still show their manifest and tables.
      break;
  }
  if (typeof manifest.config?.seed === 'number' || typeof manifest.seed === 'number') run.facts.seed = manifest.seed;
  return run;
}

/** Loads every .csv/.arrow the manifest lists (Arrow wins when both exist), failing on a listed file that is gone; unlisted ones only when the manifest has no file list. */
function loadListedTables(run: LoadedRun): void {
  const listed = Array.isArray(run.manifest.files) ? run.manifest.files : [];
  const names = new Map<string, string>();
  for (const file of listed) {
    const ext = extname(file).toLowerCase();
    if (!TABLE_EXTS.has(ext)) continue;
    const path = join(run.dir, file);
    if (!existsSync(path)) {
      throw new InputError(`${path} is listed in ${join(run.dir, 'manifest.json')} but missing: the run directory is incomplete`, path);
    }
    const stem = file.slice(0, -ext.length).replace(/[\/\\]/g, '_');
    if (!names.has(stem) || ext === '.arrow') names.set(stem, path);
  }
  // Tables written by hand or by a tool that does not list its files are still found; a manifest that
  // lists its files is believed, so stale tables of an older run in the same folder are not shown.
  if (Array.isArray(run.manifest.files)) {
    for (const [stem, path] of names) run.tables[stem] = readTable(path);
    return;
  }
  for (const file of safeReaddir(run.dir)) {
    const ext = extname(file).toLowerCase();
    const stem = file.slice(0, -ext.length);
    if (TABLE_EXTS.has(ext) && !names.has(stem)) names.set(stem, join(run.dir, file));
  }
  for (const [stem, path] of names) run.tables[stem] = readTable(path);
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => !f.includes('.tmp-'));
  } catch (err) {
    throw new InputError(`cannot list ${dir}: ${(err as Error).message}`, dir);
  }
}

/** A kind's main table: required of a complete run; a partial one (--allow-partial) may lack it. */
function need(run: LoadedRun, stem: string): void {
  if (run.tables[stem] || run.manifest.status !== 'complete') return;
  const path = join(run.dir, `${stem}.csv`);
  throw new InputError(`${path} is missing: a complete '${run.kind}' run has it`, path);
}

function loadToy(run: LoadedRun): void {
  const path = join(run.dir, 'instances.json');
  if (!existsSync(path)) {
    if (run.manifest.status !== 'complete') return;
    throw new InputError(`${path} is missing: a complete 'toy' run has it`, path);
  }
  const raw = readJson<unknown>(path);
  const list = Array.isArray(raw) ? raw : (raw as { instances?: unknown }).instances;
  if (!Array.isArray(list)) throw new InputError(`${path} is not a list of toy instances`, path);
  const t = toyTables(list as ToyInstance[], run.manifest.config, path);
  run.toyInstances = list as ToyInstance[];
  run.tables.toy_instances = t.instances;
  run.tables.toy_features = t.features;
  if (t.geometry) run.tables.toy_geometry = t.geometry;
  if (t.neuronFeatures) run.tables.toy_neuron_features = t.neuronFeatures;
  const c = run.manifest.config;
  for (const key of ['model', 'features', 'hidden', 'instances', 'steps']) {
    const v = c[key];
    if (typeof v === 'string' || typeof v === 'number') run.facts[key] = v;
  }
}

function loadClassify(run: LoadedRun): void {
  const features = run.tables.features;
  const neurons = run.tables.neurons;
  if (!features && !neurons) {
    if (run.manifest.status !== 'complete') return;
    const path = join(run.dir, 'neurons.csv');
    throw new InputError(`${path} is missing (and so is features.csv): a complete 'classify' run has them`, path);
  }
  if (features) run.tables.classify_features = features;
  if (neurons) run.tables.classify_neurons = neurons;
  if (run.tables.selectivity) run.tables.classify_selectivity = run.tables.selectivity;
  // classify.json holds the comparison with the toy model's weight-based labels, when the source was a toy.
  const path = join(run.dir, 'classify.json');
  if (!existsSync(path)) return;
  const res = readJson<{ toy?: { confusion?: Record<string, Record<string, number>>; balanced_accuracy?: number; accuracy?: number } }>(path);
  const toy = res?.toy;
  if (!toy?.confusion) return;
  const rows = [];
  for (const [weights, byAct] of Object.entries(toy.confusion)) {
    for (const [activations, count] of Object.entries(byAct)) rows.push({ weights, activations, count });
  }
  run.tables.toy_confusion = aq.from(rows);
  if (typeof toy.balanced_accuracy === 'number') run.facts.balanced_accuracy = +toy.balanced_accuracy.toFixed(4);
  if (typeof toy.accuracy === 'number') run.facts.accuracy = +toy.accuracy.toFixed(4);
}

/** Stacks one table from several runs, adding a `run` column so charts can tell them apart. */
export function stackTables(runs: LoadedRun[], name: string): ColumnTable | undefined {
  const parts = runs.filter((r) => r.tables[name]).map((r) => r.tables[name]!.derive({ run: aq.escape(() => r.name) }));
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0]! : parts[0]!.concat(...parts.slice(1));
}

/**
 * The registry of feature datasets. Each dataset lives in its own file in this folder and exports a
 * spec made with defineDataset; datasets/list.ts lists the built-in ones. makeDataset, `lab harvest
 * --dataset` (help and validation) and the harvester's aggregation check read it, so a dataset added
 * here is known everywhere at once; a name registered twice is an error, not a silent override.
 * See ADDING_A_DATASET.md.
 */
import { UsageError } from '../../lab/core/index.ts';
import type { Tokenizer } from '../types.ts';
import type { TextDataset } from './sequences.ts';
import { TEXT_SOURCES, type TextSource } from './text-sources.ts';

export interface DatasetOptions {
  context: number;
  seed: number;
  bos?: boolean;
  /** Text for text-props, compound-words, token-props, affixes and compound-bigrams (default brown). */
  source?: TextSource;
  /** brown-pos: label every token of a word ('all', default) or only its first. */
  align?: 'all' | 'first';
}

export interface DatasetSpec<N extends string = string> {
  /** The name users type (`--dataset NAME`), recorded in the store's manifest. */
  name: N;
  /** One line for help texts and the README. */
  summary: string;
  /** Whether labels are per token or per sequence (sequence-level stores default to mean aggregation). */
  level: 'token' | 'sequence';
  build(tok: Tokenizer, opts: DatasetOptions): TextDataset;
}

/** Identity with the name's literal type kept, so the built-in list yields the DatasetName union. */
export function defineDataset<N extends string>(spec: DatasetSpec<N>): DatasetSpec<N> {
  return spec;
}

const datasets = new Map<string, DatasetSpec>();

/** Adds a dataset; a name already registered is an error. */
export function registerDataset(spec: DatasetSpec): void {
  if (!/^[a-z][a-z0-9-]*$/.test(spec.name)) throw new Error(`dataset name '${spec.name}' must be lower kebab-case (it is a flag value)`);
  const old = datasets.get(spec.name);
  if (old) throw new Error(`dataset '${spec.name}' is already registered (${old.summary}); pick another name`);
  datasets.set(spec.name, spec);
}

/** Registered names in registration order (the built-ins first, as list.ts lists them). */
export function datasetNames(): string[] {
  return [...datasets.keys()];
}

export function datasetSpecs(): DatasetSpec[] {
  return [...datasets.values()];
}

/** Names of the registered sequence-level datasets (for messages about aggregation). */
export function sequenceLevelDatasets(): string[] {
  return datasetSpecs().filter((d) => d.level === 'sequence').map((d) => d.name);
}

/** Checks a `--dataset` value: an unknown name is a UsageError listing the registered ones. */
export function checkDatasetName(name: string, flag = 'dataset'): void {
  if (!datasets.has(name)) throw new UsageError(`--${flag} must be one of ${datasetNames().join(', ')}; got '${name}'`, flag);
}

/** Builds a dataset by name; an unknown name is a UsageError listing the valid ones. */
export function makeDataset(name: string, tok: Tokenizer, opts: DatasetOptions): TextDataset {
  if (opts.source !== undefined && !(TEXT_SOURCES as readonly string[]).includes(opts.source)) {
    throw new UsageError(`--source must be one of ${TEXT_SOURCES.join(', ')}; got '${opts.source}'`, 'source');
  }
  const spec = datasets.get(name);
  if (!spec) throw new UsageError(`unknown dataset '${name}' for --dataset; valid: ${datasetNames().join(', ')}`, 'dataset');
  return spec.build(tok, opts);
}

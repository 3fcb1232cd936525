/**
 * Probing a feature against its hard negatives only (`lab probe --contrast hard-negatives`).
 *
 * Gurnee et al. 2023 (sparse_probing, probing_datasets/ngrams.py) probe each compound-word bigram a_b on
 * a dataset made of three kinds of token: the bigram (b right after a, label 1), b without a before it
 * ('missing_first', label 0) and the token after a when it is not b ('missing_second', label 0); no
 * other token is in it. So a neuron that fires on every b, or after every a, does not separate the
 * classes, and only a neuron that reads both words does. Here a feature f has hard negatives when the
 * store labels the columns `f_missing_first` and `f_missing_second` (activations/datasets/
 * compound-bigrams.ts labels them for its 21 pairs); its probe's rows, on the train and the test side
 * of the one split by sequence alike, are the rows where f or one of those two is 1, and its
 * positives are f's. Where this differs from the reference: every occurrence of the three kinds is
 * kept (the reference samples up to 1,600 bigrams and 3,200 of each kind of negative, half and half);
 * the probe's class weighting balances positives against negatives, not the two kinds of negative
 * against each other.
 *
 * The split stays the sweep's one split by sequence, stratified on each probed feature's three
 * columns (the same list a plain `--features all` sweep of the dataset stratifies on), so a contrast
 * run and a plain run of the same store and seed put the same sequences on the test side.
 */
import { hardNegativeColumns } from '../activations/index.ts';
import { UsageError } from '../lab/core/index.ts';

export const CONTRASTS = ['all', 'hard-negatives'] as const;
export type Contrast = (typeof CONTRASTS)[number];


/** Whether the labels `have` hold both hard-negative columns of f. */
export function hasHardNegatives(feature: string, have: readonly string[]): boolean {
  return hardNegativeColumns(feature).every((c) => have.includes(c));
}

/**
 * The features a contrast sweep probes on a hook with labels `have`: under 'all', every feature with
 * both hard-negative columns (the negatives themselves are not probed); explicit names must each have
 * them. A store with no such feature, or a named feature without them, is a UsageError naming --contrast.
 */
export function contrastFeatures(have: readonly string[], requested: 'all' | string[], hook: string, where: string): string[] {
  const eligible = have.filter((f) => hasHardNegatives(f, have)).sort();
  if (eligible.length === 0) {
    throw new UsageError(
      `--contrast hard-negatives: hook '${hook}' in ${where} has no feature with hard-negative columns ` +
        `(a feature f needs labels f_missing_first and f_missing_second, as the compound-bigrams dataset writes)`,
      'contrast',
    );
  }
  if (requested === 'all') return eligible;
  const without = requested.filter((f) => !eligible.includes(f));
  if (without.length > 0) {
    const [a, b] = hardNegativeColumns(without[0]!);
    throw new UsageError(
      `--contrast hard-negatives: --features ${without.map((f) => `'${f}'`).join(', ')} ha${without.length > 1 ? 've' : 's'} no hard negatives ` +
        `(no labels '${a}' and '${b}' on hook '${hook}'); features that have them: ${eligible.join(', ')}`,
      'contrast',
    );
  }
  return requested;
}

/**
 * The label columns the split is stratified on: the probed features themselves, or under the contrast
 * each probed feature with its two hard negatives, sorted (the split's repair pass runs in name order).
 */
export function stratifyColumns(features: readonly string[], contrast: Contrast | undefined): string[] {
  if (contrast !== 'hard-negatives') return features.slice();
  return [...new Set(features.flatMap((f) => [f, ...hardNegativeColumns(f)]))].sort();
}

/** 1 on the rows where f or one of its hard negatives is 1: the rows its contrast probe sees. */
export function contrastMask(labels: Record<string, Uint8Array>, feature: string): Uint8Array {
  const y = labels[feature]!;
  const [a, b] = hardNegativeColumns(feature).map((c) => labels[c]!);
  const m = new Uint8Array(y.length);
  for (let r = 0; r < y.length; r++) m[r] = y[r]! | a![r]! | b![r]!;
  return m;
}

/**
 * Positions i in `rows` (a split side's store rows) whose row lies in `mask`: the rows of that side's
 * matrix (which holds the side's rows in the same order) the contrast keeps.
 */
export function keptPositions(rows: Int32Array, mask: Uint8Array): Int32Array {
  let n = 0;
  for (let i = 0; i < rows.length; i++) n += mask[rows[i]!]!;
  const out = new Int32Array(n);
  let j = 0;
  for (let i = 0; i < rows.length; i++) if (mask[rows[i]!]) out[j++] = i;
  return out;
}

/** A feature's contrast rows on each side: store rows (for its labels) and positions (for the side's matrix). */
export interface ContrastRows {
  trainRows: Int32Array;
  testRows: Int32Array;
  /** Positions in the split's train (test) rows, i.e. rows of the hook's Xtr (Xte). */
  tr: Int32Array;
  te: Int32Array;
}

export function contrastRows(labels: Record<string, Uint8Array>, feature: string, split: { train: Int32Array; test: Int32Array }): ContrastRows {
  const mask = contrastMask(labels, feature);
  const tr = keptPositions(split.train, mask);
  const te = keptPositions(split.test, mask);
  return { tr, te, trainRows: tr.map((i) => split.train[i]!), testRows: te.map((i) => split.test[i]!) };
}

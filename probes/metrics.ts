/**
 * Binary classification metrics with scikit-learn's conventions, so figures compare with the reference
 * work: a row is predicted positive when its score is strictly above the threshold (sklearn's
 * `decision_function > 0` is `proba > 0.5`); an undefined precision, recall, F1 or MCC is 0 (sklearn's
 * zero_division default); ROC-AUC averages tied ranks; PR-AUC is average precision (step-wise, no
 * interpolation, ties grouped) like `average_precision_score`. AUCs are NaN when y holds one class.
 */
import { InputError } from '../lab/core/index.ts';
import type { Metrics } from './types.ts';

export function computeMetrics(y: Uint8Array, scores: Float64Array | Float32Array, threshold = 0.5): Metrics {
  const n = y.length;
  if (scores.length !== n) throw new InputError(`metrics: ${scores.length} scores for ${n} labels`);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) throw new InputError(`metrics: score at row ${i} is NaN`);
    const pred = s > threshold;
    if (y[i]) {
      if (pred) tp++;
      else fn++;
    } else if (pred) fp++;
    else tn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
  const den = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  const mcc = den > 0 ? (tp * tn - fp * fn) / den : 0;
  const accuracy = n > 0 ? (tp + tn) / n : 0;
  const { rocAuc, averagePrecision } = rankingMetrics(y, scores);
  return { f1, mcc, precision, recall, accuracy, roc_auc: rocAuc, pr_auc: averagePrecision };
}

/**
 * ROC-AUC (Mann-Whitney U with mid-ranks for ties) and average precision. The positives' and the
 * negatives' scores are sorted apart (the typed arrays' own numeric sort, several times faster than a
 * sort of indices through a comparator) and merged from the top, one group of equal scores at a time.
 * Scores must not be NaN (computeMetrics checks).
 */
export function rankingMetrics(y: Uint8Array, scores: Float64Array | Float32Array): { rocAuc: number; averagePrecision: number } {
  const n = y.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i]!;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return { rocAuc: NaN, averagePrecision: NaN };
  const ps = new Float64Array(nPos);
  const ns = new Float64Array(nNeg);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (y[i]) ps[a++] = scores[i]!;
    else ns[b++] = scores[i]!;
  }
  ps.sort();
  ns.sort();
  let pi = nPos - 1;
  let ni = nNeg - 1;
  let tpCum = 0;
  let fpCum = 0;
  let ap = 0;
  let prevRecall = 0;
  // Sum over positives of the number of negatives ranked strictly below, plus half the tied ones.
  let aucNum = 0;
  while (pi >= 0 || ni >= 0) {
    // The next group, descending: every score equal to the largest left on either side.
    const s = pi < 0 ? ns[ni]! : ni < 0 ? ps[pi]! : Math.max(ps[pi]!, ns[ni]!);
    let pos = 0;
    let neg = 0;
    while (pi >= 0 && ps[pi] === s) {
      pos++;
      pi--;
    }
    while (ni >= 0 && ns[ni] === s) {
      neg++;
      ni--;
    }
    // Negatives strictly below this group: nNeg - fpCum - neg.
    aucNum += pos * (nNeg - fpCum - neg) + 0.5 * pos * neg;
    tpCum += pos;
    fpCum += neg;
    const recall = tpCum / nPos;
    const precision = tpCum / (tpCum + fpCum);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
  }
  return { rocAuc: aucNum / (nPos * nNeg), averagePrecision: ap };
}

/**
 * Classification of a finished probe sweep: per feature (dedicated neuron, k*, F1 gain from k=1 to k*,
 * capacity, privileged basis) and per neuron (selectivity per feature, mono / poly / dead), with the toy
 * model's weight-based labels and Scherlis capacities beside them when the activations came from a toy.
 *
 * Thresholds (all options, defaults here):
 *  - dedicated neuron: the 1-sparse probe's test F1 >= DEDICATED_F1 = 0.8. A neuron shared evenly by two
 *    equally frequent features can reach at most F1 = 2/3 for either (precision 1/2, recall 1), one of
 *    its own reaches about 1; 0.8 sits between.
 *  - k*: the smallest k whose F1 reaches KSTAR_FRAC = 0.95 of the best F1 over all k. F1 at each k is the
 *    best over the sweep's ranking methods (or one method, with `method`).
 *  - neuron labels: see probes/neurons.ts.
 */
import { InputError } from '../lab/core/index.ts';
import type { ProbeData } from '../activations/index.ts';
import { capacityAgreement, responseCapacity, type CapacityAgreement } from './capacity.ts';
import { DEFAULT_NEURON_THRESHOLDS, labelNeurons, neuronResponses, type NeuronLabel, type NeuronRow, type NeuronThresholds } from './neurons.ts';
import { privilegedBasis, type PrivilegedRow } from './privileged.ts';
import { takeLabels, takeRows } from './split.ts';
import { contrastMask, contrastRows } from './contrast.ts';
import { readSweep, splitFor, type ProbeEngine, type ProbeSource, type SweepConfig, type SweepRow } from './sweep.ts';

import { DEDICATED_F1, KSTAR_FRAC } from './thresholds.ts';

export { DEDICATED_F1, KSTAR_FRAC };

export interface ClassifyOptions {
  dedicatedF1: number;
  kStarFrac: number;
  /** 'best': F1 at each k is the best over methods; or one ranking method's curve. */
  method: 'best' | string;
  neurons: NeuronThresholds;
  /** Random rotations for the privileged-basis test (0 skips it). */
  rotations: number;
  seed: number;
}

export const DEFAULT_CLASSIFY_OPTIONS: ClassifyOptions = {
  dedicatedF1: DEDICATED_F1, kStarFrac: KSTAR_FRAC, method: 'best', neurons: DEFAULT_NEURON_THRESHOLDS, rotations: 5, seed: 0,
};

export interface FeatureRow {
  feature: string;
  hook: string;
  status: 'ok' | 'skipped';
  skip_reason: string;
  best_f1: number | null;
  best_method: string;
  best_k: number | null;
  f1_k1: number | null;
  k1_neuron: number | null;
  dedicated: boolean;
  k_star: number | null;
  f1_k_star: number | null;
  /** F1 at k* minus F1 at k=1: how much spreading over neurons buys (evidence of superposition). */
  f1_gain: number | null;
  /** Response-share capacity (probes/capacity.ts). */
  capacity: number;
  /** Scherlis C_i of the toy feature, when the source is a toy model. */
  toy_capacity: number | null;
  neuron_f1: number | null;
  rotated_f1_mean: number | null;
  rotated_f1_max: number | null;
  privilege: number | null;
}

/** Weight-based truth for one hook of a toy source. */
export interface ToyTruth {
  labels: NeuronLabel[];
  /** Scherlis C_i per feature name. */
  capacity: Record<string, number>;
}

export interface ToyComparison {
  /** counts[truth][activation label] over every neuron of every toy hook. */
  confusion: Record<NeuronLabel, Record<NeuronLabel, number>>;
  balanced_accuracy: number;
  accuracy: number;
  n_neurons: number;
  per_hook: Record<string, { balanced_accuracy: number; accuracy: number; n: number }>;
  capacity: CapacityAgreement;
}

export interface ClassifyResult {
  features: FeatureRow[];
  neurons: Array<NeuronRow & { truth_label: NeuronLabel | null }>;
  privileged: PrivilegedRow[];
  toy?: ToyComparison;
  /**
   * Set when the probe run compared each feature with its hard negatives only (lab probe --contrast):
   * its F1s, the privileged-basis F1s and the neuron responses are all on those rows.
   */
  contrast?: 'hard-negatives';
}

export interface ClassifyDeps {
  source: ProbeSource;
  engine: ProbeEngine;
  /** Weight-based ground truth for a toy hook (undefined when the hook has no toy source). */
  truth?: (toy: NonNullable<ProbeData['toy']>, hook: string, features: string[]) => ToyTruth | undefined;
  onHook?: (hook: string, i: number, n: number) => void;
}

/** Per-feature curve summary from the sweep rows of one (feature, hook). */
export function summariseFeature(rows: SweepRow[], opts: Pick<ClassifyOptions, 'dedicatedF1' | 'kStarFrac' | 'method'>): Omit<FeatureRow, 'capacity' | 'toy_capacity' | 'neuron_f1' | 'rotated_f1_mean' | 'rotated_f1_max' | 'privilege'> {
  const { feature, hook } = rows[0]!;
  const ok = rows.filter((r) => r.status === 'ok' && r.f1 !== null && (opts.method === 'best' || r.method === opts.method));
  if (ok.length === 0) {
    const reason = rows.find((r) => r.skip_reason)?.skip_reason ?? `no finished probes${opts.method === 'best' ? '' : ` for method ${opts.method}`}`;
    return {
      feature, hook, status: 'skipped', skip_reason: reason, best_f1: null, best_method: '', best_k: null,
      f1_k1: null, k1_neuron: null, dedicated: false, k_star: null, f1_k_star: null, f1_gain: null,
    };
  }
  // Best row at each k (ties go to the earlier method in the sweep's order).
  const atK = new Map<number, SweepRow>();
  for (const r of ok) {
    const cur = atK.get(r.k!);
    if (!cur || r.f1! > cur.f1!) atK.set(r.k!, r);
  }
  const ks = [...atK.keys()].sort((a, b) => a - b);
  let best = atK.get(ks[0]!)!;
  for (const k of ks) if (atK.get(k)!.f1! > best.f1!) best = atK.get(k)!;
  const kStar = ks.find((k) => atK.get(k)!.f1! >= opts.kStarFrac * best.f1!)!;
  const k1 = atK.get(1);
  const f1k1 = k1?.f1 ?? null;
  const f1Star = atK.get(kStar)!.f1!;
  return {
    feature, hook, status: 'ok', skip_reason: '', best_f1: best.f1, best_method: best.method, best_k: best.k,
    f1_k1: f1k1, k1_neuron: k1?.neurons[0] ?? null, dedicated: f1k1 !== null && f1k1 >= opts.dedicatedF1,
    k_star: kStar, f1_k_star: f1Star, f1_gain: f1k1 === null ? null : f1Star - f1k1,
  };
}

function labelConfusion(pairs: Array<[NeuronLabel, NeuronLabel]>): { confusion: ToyComparison['confusion']; balanced: number; accuracy: number } {
  const L: NeuronLabel[] = ['mono', 'poly', 'dead'];
  const confusion = Object.fromEntries(L.map((t) => [t, Object.fromEntries(L.map((p) => [p, 0]))])) as ToyComparison['confusion'];
  for (const [t, p] of pairs) confusion[t][p]++;
  const recalls = L.map((t) => {
    const n = L.reduce((s, p) => s + confusion[t][p], 0);
    return n > 0 ? confusion[t][t] / n : NaN;
  }).filter((r) => !Number.isNaN(r));
  const right = L.reduce((s, t) => s + confusion[t][t], 0);
  return {
    confusion,
    balanced: recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : NaN,
    accuracy: pairs.length ? right / pairs.length : NaN,
  };
}

/** Classifies the features and neurons of the probe run in `probeDir`. */
export function classifyProbeRun(probeDir: string, deps: ClassifyDeps, options: Partial<ClassifyOptions> = {}): ClassifyResult {
  const opts = { ...DEFAULT_CLASSIFY_OPTIONS, ...options };
  const { manifest, config, rows } = readSweep(probeDir);
  const hooksInfo = (manifest.hooks ?? {}) as Record<string, { features: string[]; toy?: ProbeData['toy'] }>;
  const hooks = Object.keys(hooksInfo);
  if (hooks.length === 0) throw new InputError(`${probeDir}/manifest.json lists no hooks`, probeDir);

  const features: FeatureRow[] = [];
  const neurons: ClassifyResult['neurons'] = [];
  const privileged: PrivilegedRow[] = [];
  const pairs: Array<[NeuronLabel, NeuronLabel]> = [];
  const perHook: ToyComparison['per_hook'] = {};
  const capEst: number[] = [];
  const capTruth: number[] = [];

  hooks.forEach((hook, hi) => {
    deps.onHook?.(hook, hi, hooks.length);
    const names = hooksInfo[hook]!.features;
    const data = deps.source.read(hook);
    const summaries = names.map((f) => {
      const fr = rows.filter((r) => r.hook === hook && r.feature === f);
      if (fr.length === 0) throw new InputError(`${probeDir}: no sweep rows for feature '${f}' on hook '${hook}'`, probeDir);
      return summariseFeature(fr, opts);
    });
    const probed = summaries.filter((s) => s.status === 'ok').map((s) => s.feature);

    // Selectivity over all rows of the hook, for every feature the sweep probed.
    // A contrast run compares each feature with its hard negatives only, here as in its probes.
    const within = config.contrast ? probed.map((f) => contrastMask(data.labels, f)) : undefined;
    const resp = neuronResponses(data, probed, opts.neurons.deadAct, within);
    const labelled = labelNeurons(hook, resp, opts.neurons);
    const cap = responseCapacity(labelled, probed.length);
    const toy = hooksInfo[hook]!.toy ?? data.toy;
    const truth = toy && deps.truth ? deps.truth(toy, hook, probed) : undefined;
    if (truth && truth.labels.length !== labelled.length) {
      throw new InputError(`toy truth for hook '${hook}' has ${truth.labels.length} neurons, activations have ${labelled.length}`, probeDir);
    }
    labelled.forEach((n, i) => neurons.push({ ...n, truth_label: truth ? truth.labels[i]! : null }));
    if (truth) {
      const hp = labelled.map((n, i) => [truth.labels[i]!, n.label] as [NeuronLabel, NeuronLabel]);
      pairs.push(...hp);
      const c = labelConfusion(hp);
      perHook[hook] = { balanced_accuracy: c.balanced, accuracy: c.accuracy, n: hp.length };
    }

    let priv: PrivilegedRow[] = [];
    if (opts.rotations >= 0 && probed.length > 0) {
      const split = splitFor(data, names, config.testFrac, config.seed, config.contrast);
      const Xtr = { data: takeRows(data.X, data.nNeurons, split.train), nRows: split.train.length, nCols: data.nNeurons };
      const Xte = { data: takeRows(data.X, data.nNeurons, split.test), nRows: split.test.length, nCols: data.nNeurons };
      const labels = Object.fromEntries(probed.map((f) => {
        const y = data.labels[f]!;
        if (!config.contrast) return [f, { ytr: takeLabels(y, split.train), yte: takeLabels(y, split.test) }];
        const cr = contrastRows(data.labels, f, split);
        return [f, { ytr: takeLabels(y, cr.trainRows), yte: takeLabels(y, cr.testRows), tr: cr.tr, te: cr.te }];
      }));
      priv = privilegedBasis(deps.engine, hook, Xtr, Xte, labels, { rotations: opts.rotations, seed: opts.seed, fit: config.fit });
      privileged.push(...priv);
    }

    for (const s of summaries) {
      const fi = probed.indexOf(s.feature);
      const p = priv.find((r) => r.feature === s.feature);
      const toyCap = truth?.capacity[s.feature];
      features.push({
        ...s,
        capacity: fi >= 0 ? cap[fi]! : 0,
        toy_capacity: toyCap ?? null,
        neuron_f1: p?.neuron_f1 ?? null,
        rotated_f1_mean: p && p.rotations > 0 ? p.rotated_f1_mean : null,
        rotated_f1_max: p && p.rotations > 0 ? p.rotated_f1_max : null,
        privilege: p && p.rotations > 0 ? p.privilege : null,
      });
      if (fi >= 0 && toyCap !== undefined) {
        capEst.push(cap[fi]!);
        capTruth.push(toyCap);
      }
    }
  });

  const result: ClassifyResult = { features, neurons, privileged, ...(config.contrast ? { contrast: config.contrast } : {}) };
  if (pairs.length > 0) {
    const c = labelConfusion(pairs);
    result.toy = {
      confusion: c.confusion, balanced_accuracy: c.balanced, accuracy: c.accuracy, n_neurons: pairs.length,
      per_hook: perHook, capacity: capacityAgreement(capEst, capTruth),
    };
  }
  return result;
}

export type { SweepConfig };

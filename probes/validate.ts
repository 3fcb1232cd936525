/**
 * Validation on ground truth: the whole chain on relu-hidden toy models at several sparsities,
 * toy train -> harvest -> probe -> classify, and the activation-based neuron labels scored against the
 * weight-based ones (activations/toy/neurons.ts). The test runs a small version; run the larger one with
 *
 *   node --import tsx bench/probe-validate.ts [--large] [--out DIR] [--seed N] [--features N --hidden M
 *     --instances I --steps S --samples R --weight-decay W --importance-decay D --rotations Q]
 *
 * which prints the per-sparsity confusion matrices and balanced accuracies as JSON.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { harvestToy } from '../activations/index.ts';
import { initBackend } from '../lab/core/backend.ts';
import { loadToyRun, neuronLabels, resolveConfig, trainToy, writeToyRun, type ToyInstance } from '../activations/toy/index.ts';

import { STANDARD_KS } from './rank/index.ts';
import { classifyProbeRun, type ClassifyResult } from './classify.ts';
import { COVER_SHARE, DEAD_ACT, type NeuronLabel } from './neurons.ts';
import { storeSource, toyTruthLoader } from './source.ts';
import { labEngine, runSweep, type SweepConfig } from './sweep.ts';

export interface ValidationSpec {
  features: number;
  hidden: number;
  /** Feature probabilities, one toy instance each (spread geometrically from a to b). */
  featureProb: [number, number];
  instances: number;
  importanceDecay: number;
  weightDecay: number;
  steps: number;
  /** Harvested samples per instance. */
  samples: number;
  seed: number;
  rotations: number;
}

export const SMALL: ValidationSpec = {
  features: 6, hidden: 6, featureProb: [0.3, 0.03], instances: 3, importanceDecay: 0.8, weightDecay: 0.01, steps: 2000, samples: 6000, seed: 0, rotations: 0,
};

export const LARGE: ValidationSpec = {
  features: 5, hidden: 10, featureProb: [0.3, 0.01], instances: 5, importanceDecay: 0.8, weightDecay: 0.1, steps: 8000, samples: 40000, seed: 0, rotations: 2,
};

export interface ValidationReport {
  spec: ValidationSpec;
  balanced_accuracy: number;
  accuracy: number;
  confusion: NonNullable<ClassifyResult['toy']>['confusion'];
  per_instance: Array<{ hook: string; feature_prob: number; balanced_accuracy: number; accuracy: number; n: number; labels: Record<string, number> }>;
  capacity: NonNullable<ClassifyResult['toy']>['capacity'];
  /** Neurons where the two labels differ, with both views, for reading the disagreements. */
  disagreements: Array<{ hook: string; neuron: number; weights: string; activations: string; features: string[] }>;
  /**
   * The same scoring against two earlier weight-side rules, for comparison: max_reach (reach max(w, 0),
   * bias ignored: activations/toy/neurons.ts before the expected-response definition) and sparse_limit (the
   * response of each feature alone, the p -> 0 limit of the current definition).
   */
  alternatives: { max_reach: Agreement; sparse_limit: Agreement };
  seconds: Record<string, number>;
  result: ClassifyResult;
}

/** Runs the chain in workDir (toy/, acts/, probe/) and scores the labels. */
export async function validateOnToy(spec: ValidationSpec, workDir: string, opts: { silent?: boolean } = {}): Promise<ValidationReport> {
  await initBackend('cpu');
  mkdirSync(workDir, { recursive: true });
  const seconds: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    seconds[name] = (performance.now() - t) / 1000;
    t = performance.now();
  };
  const toyDir = join(workDir, 'toy');
  const toyConfig = {
    model: 'relu-hidden' as const, features: spec.features, hidden: spec.hidden, instances: spec.instances,
    feature_prob: spec.featureProb, importance_decay: spec.importanceDecay, weight_decay: spec.weightDecay, steps: spec.steps, seed: spec.seed, engine: 'js' as const,
  };
  // A finished toy run of the same config in workDir is reused (the other stages resume on their own),
  // unless its stored labels predate the current weight-side definition.
  let toy: { instances: ToyInstance[] } | undefined;
  if (existsSync(join(toyDir, 'manifest.json'))) {
    const old = loadToyRun(toyDir);
    const current = old.instances.every((i) => JSON.stringify(i.neurons) === JSON.stringify(neuronLabels(old.config.model, i.W1!, i.b1!, i.feature_prob)));
    if (JSON.stringify(old.config) === JSON.stringify(resolveConfig(toyConfig)) && current) toy = old;
  }
  if (!toy) {
    const trained = await trainToy(toyConfig);
    writeToyRun(toyDir, trained, 'probes/validate.ts');
    toy = trained;
  }
  lap('toy_train');
  const actsDir = join(workDir, 'acts');
  await harvestToy(toyDir, { out: actsDir, seed: spec.seed, maxTokens: spec.samples, silent: opts.silent ?? true });
  lap('harvest');
  const source = storeSource(actsDir);
  const config: SweepConfig = {
    activations: source.dir, features: 'all', hooks: '*', methods: ['mean_dif'], ks: [...STANDARD_KS],
    ksExplicit: false, testFrac: 0.3, seed: spec.seed, minPosTrain: 10, minPosTest: 2, fit: { C: 1, classWeight: 'balanced' },
  };
  const probeDir = join(workDir, 'probe');
  await runSweep(config, { outDir: probeDir, source, engine: labEngine(), silent: opts.silent ?? true });
  lap('probe');
  const result = classifyProbeRun(probeDir, { source, engine: labEngine(), truth: toyTruthLoader() }, { rotations: spec.rotations, seed: spec.seed });
  lap('classify');
  const cmp = result.toy!;
  const probs = toy.instances.map((i) => i.feature_prob);
  const per_instance = Object.entries(cmp.per_hook).map(([hook, v]) => {
    const inst = Number(hook.split('.')[1]);
    const labels: Record<string, number> = { mono: 0, poly: 0, dead: 0 };
    for (const n of result.neurons) if (n.hook === hook) labels[n.truth_label!]!++;
    return { hook, feature_prob: probs[inst]!, ...v, labels };
  });
  const disagreements = result.neurons
    .filter((n) => n.truth_label !== n.label)
    .map((n) => ({ hook: n.hook, neuron: n.neuron, weights: n.truth_label!, activations: n.label, features: n.features }));
  const trained = toy;
  const against = (rule: (inst: ToyInstance) => NeuronLabel[]) => {
    const truth = trained.instances.map(rule);
    return agreement(result.neurons.map((n) => [truth[Number(n.hook.split('.')[1])]![n.neuron]!, n.label]));
  };
  return {
    alternatives: {
      max_reach: against((inst) => maxReachLabels('relu-hidden', inst.W1!, inst.b1!)),
      sparse_limit: against((inst) => sparseLimitLabels('relu-hidden', inst.W1!, inst.b1!)),
    },
    spec, balanced_accuracy: cmp.balanced_accuracy, accuracy: cmp.accuracy, confusion: cmp.confusion, per_instance,
    capacity: cmp.capacity, disagreements, seconds, result,
  };
}

/** Mean of ReLU over the straight segment from a to c (a uniform variable moving along it). */
function meanReluSegment(a: number, c: number): number {
  const lo = Math.min(a, c);
  const hi = Math.max(a, c);
  if (lo >= 0) return (lo + hi) / 2;
  if (hi <= 0) return 0;
  return (hi * hi) / (2 * (hi - lo));
}

/**
 * The first weight-side rule (activations/toy/neurons.ts before the expected-response definition), kept for
 * comparison: reach_i = max(w_i, 0) (|w_i| for abs), bias ignored; dead when b + sum reach <= DEAD_ACT
 * or sum reach <= DEAD_ACT; mono when one feature covers COVER_SHARE of the reach.
 */
export function maxReachLabels(model: 'relu-hidden' | 'abs', W1: number[][], b1: number[]): NeuronLabel[] {
  return W1.map((w, k) => {
    const reach = w.map((v) => (model === 'abs' ? Math.abs(v) : Math.max(v, 0)));
    const mass = reach.reduce((a, b) => a + b, 0);
    if (b1[k]! + mass <= DEAD_ACT || mass <= DEAD_ACT) return 'dead';
    return Math.max(...reach) / mass >= COVER_SHARE ? 'mono' : 'poly';
  });
}

/**
 * The sparse-limit rule (an intermediate proposal, kept for comparison): feature
 * i's reach is what it does to the neuron on its own, E_x[ReLU(w_i x + b)] - ReLU(b) with x uniform on
 * the feature's support ([0, 1]; [-1, 1] for abs), clipped at 0. That is the activation-based mean
 * difference in the sparse limit, so the two definitions measure one quantity. Cover threshold as in
 * activations/toy/neurons.ts; dead when no single feature can lift the neuron above DEAD_ACT at any value
 * (max_x ReLU(w_i x + b) - ReLU(b) <= DEAD_ACT for every i), the toy's max-activation rule per feature.
 */
export function sparseLimitLabels(model: 'relu-hidden' | 'abs', W1: number[][], b1: number[]): NeuronLabel[] {
  return W1.map((w, k) => {
    const b = b1[k]!;
    const lo = (v: number) => (model === 'abs' ? b - Math.abs(v) : Math.min(b, b + v));
    const hi = (v: number) => (model === 'abs' ? b + Math.abs(v) : Math.max(b, b + v));
    const reach = w.map((v) => Math.max(0, meanReluSegment(lo(v), hi(v)) - Math.max(b, 0)));
    const lift = Math.max(...w.map((v) => Math.max(0, hi(v)) - Math.max(b, 0)));
    if (lift <= DEAD_ACT) return 'dead';
    const mass = reach.reduce((s, v) => s + v, 0);
    const shares = reach.map((r) => r / mass).sort((x, y) => y - x);
    return shares[0]! >= COVER_SHARE ? 'mono' : 'poly';
  });
}

export interface Agreement {
  balanced_accuracy: number;
  accuracy: number;
  confusion: Record<NeuronLabel, Record<NeuronLabel, number>>;
}

/** Confusion and balanced accuracy of activation labels against a given truth per neuron. */
function agreement(pairs: Array<[NeuronLabel, NeuronLabel]>): Agreement {
  const L: NeuronLabel[] = ['mono', 'poly', 'dead'];
  const confusion = Object.fromEntries(L.map((t) => [t, Object.fromEntries(L.map((p) => [p, 0]))])) as Record<NeuronLabel, Record<NeuronLabel, number>>;
  for (const [t, p] of pairs) confusion[t][p]++;
  const recalls = L.map((t) => L.reduce((s, p) => s + confusion[t][p], 0)).map((n, i) => (n ? confusion[L[i]!][L[i]!] / n : NaN)).filter((r) => !Number.isNaN(r));
  return {
    balanced_accuracy: recalls.reduce((a, b) => a + b, 0) / recalls.length,
    accuracy: L.reduce((s, t) => s + confusion[t][t], 0) / pairs.length,
    confusion,
  };
}

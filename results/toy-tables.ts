/**
 * Tables from a toy-model run (activations/toy): its instances.json holds W and the metrics per instance; the
 * charts want them long and tidy, one row per (instance, feature) or (instance, neuron, feature).
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { InputError } from '../lab/core/index.ts';

/** One instance as activations/toy writes it (instances.json and `lab toy train --json`). */
export interface ToyInstance {
  feature_prob: number;
  loss: number;
  /** features x hidden */
  W: number[][];
  b?: number[];
  norms?: number[];
  interference?: number[];
  dimensionality?: number[];
  capacity?: number[];
  total_capacity?: number;
  /** m / ||W||_F^2; null when JSON could not hold Infinity (W all zero). */
  dims_per_feature?: number | null;
  geometry?: unknown;
  W1?: number[][];
  W2?: number[][];
  neurons?: { label: string; features: number[]; shares?: number[] }[];
}

export interface ToyTables {
  /** instance, feature_prob, inv_density, loss, features, hidden, total_capacity, dims_per_feature */
  instances: ColumnTable;
  /** instance, feature_prob, inv_density, feature, importance, norm, interference, dimensionality, capacity */
  features: ColumnTable;
  /** instance, feature_prob, feature, x, y, norm: the 2D feature directions, only when hidden = 2 */
  geometry?: ColumnTable;
  /** instance, feature_prob, neuron, label, feature, share: only for models with neurons */
  neuronFeatures?: ColumnTable;
}

/** Importance per feature from a toy config: an explicit list, else importance_decay^i. */
export function importanceOf(config: Record<string, unknown>, n: number): number[] {
  const list = config.importance;
  if (Array.isArray(list) && list.length === n) return list.map(Number);
  const decay = typeof config.importance_decay === 'number' ? config.importance_decay : 1;
  return Array.from({ length: n }, (_, i) => decay ** i);
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
}

/**
 * Builds the tables. Metrics missing from the JSON (older runs) are recomputed from W with the
 * definitions of activations/toy/metrics.ts, so a chart never shows a hole where W has the answer.
 */
export function toyTables(instances: ToyInstance[], config: Record<string, unknown>, source = 'instances.json'): ToyTables {
  if (!Array.isArray(instances) || instances.length === 0) {
    throw new InputError(`${source} holds no instances`, source);
  }
  const inst: Record<string, number[]> = {
    instance: [], feature_prob: [], inv_density: [], loss: [], features: [], hidden: [], total_capacity: [], dims_per_feature: [],
  };
  const feat: Record<string, number[]> = {
    instance: [], feature_prob: [], inv_density: [], feature: [], importance: [], norm: [], interference: [], dimensionality: [], capacity: [],
  };
  const geo: Record<string, number[]> = { instance: [], feature_prob: [], feature: [], x: [], y: [], norm: [] };
  const nf: { instance: number[]; feature_prob: number[]; neuron: number[]; label: string[]; feature: number[]; share: number[] } = {
    instance: [], feature_prob: [], neuron: [], label: [], feature: [], share: [],
  };
  let hasNeurons = false;
  instances.forEach((ins, i) => {
    const W = ins.W;
    if (!Array.isArray(W) || W.length === 0 || !Array.isArray(W[0])) {
      throw new InputError(`${source}: instance ${i} has no W (features x hidden)`, source);
    }
    const n = W.length;
    const m = W[0]!.length;
    const p = Number(ins.feature_prob);
    const imp = importanceOf(config, n);
    const norms2 = W.map((w) => dot(w, w));
    let frob = 0;
    let total = 0;
    for (let a = 0; a < n; a++) {
      frob += norms2[a]!;
      const norm = Math.sqrt(norms2[a]!);
      let interference = 0;
      let denom = 0;
      for (let c = 0; c < n; c++) {
        const d = dot(W[a]!, W[c]!);
        denom += d * d;
        if (c !== a && norm > 0) interference += (d / norm) ** 2;
      }
      const capacity = ins.capacity?.[a] ?? (norms2[a]! > 1e-12 ? norms2[a]! ** 2 / denom : 0);
      total += capacity;
      feat.instance!.push(i);
      feat.feature_prob!.push(p);
      feat.inv_density!.push(1 / p);
      feat.feature!.push(a);
      feat.importance!.push(imp[a]!);
      feat.norm!.push(ins.norms?.[a] ?? norm);
      feat.interference!.push(ins.interference?.[a] ?? interference);
      feat.dimensionality!.push(ins.dimensionality?.[a] ?? capacity);
      feat.capacity!.push(capacity);
      if (m === 2) {
        geo.instance!.push(i);
        geo.feature_prob!.push(p);
        geo.feature!.push(a);
        geo.x!.push(W[a]![0]!);
        geo.y!.push(W[a]![1]!);
        geo.norm!.push(norm);
      }
    }
    inst.instance!.push(i);
    inst.feature_prob!.push(p);
    inst.inv_density!.push(1 / p);
    inst.loss!.push(Number(ins.loss));
    inst.features!.push(n);
    inst.hidden!.push(m);
    inst.total_capacity!.push(ins.total_capacity ?? total);
    inst.dims_per_feature!.push(ins.dims_per_feature ?? (frob > 0 ? m / frob : Infinity));
    if (Array.isArray(ins.neurons)) {
      hasNeurons = true;
      ins.neurons.forEach((neuron, k) => {
        const shares = neuron.shares ?? neuronShares(ins.W1?.[k], config.model === 'abs');
        if (!shares) return;
        shares.forEach((s, f) => {
          nf.instance.push(i);
          nf.feature_prob.push(p);
          nf.neuron.push(k);
          nf.label.push(neuron.label);
          nf.feature.push(f);
          nf.share.push(s);
        });
      });
    }
  });
  return {
    instances: aq.table(inst),
    features: aq.table(feat),
    geometry: geo.instance!.length > 0 ? aq.table(geo) : undefined,
    neuronFeatures: hasNeurons ? aq.table(nf) : undefined,
  };
}

/** Share of a neuron's positive input mass per feature (activations/toy/neurons.ts), for runs that did not store it. */
function neuronShares(w: number[] | undefined, abs: boolean): number[] | undefined {
  if (!w) return undefined;
  const reach = w.map((v) => (abs ? Math.abs(v) : Math.max(v, 0)));
  const mass = reach.reduce((a, b) => a + b, 0);
  return reach.map((r) => (mass > 0 ? r / mass : 0));
}

/**
 * The configuration of a toy-model run and the per-instance / per-feature values it resolves to.
 * Everything a run needs is in ToyConfig, so a manifest's config alone reproduces it.
 */
import { UsageError } from '../../lab/core/index.ts';

export const TOY_MODELS = ['linear', 'relu-out', 'relu-hidden', 'abs'] as const;
export type ToyModel = (typeof TOY_MODELS)[number];

export const TOY_ENGINES = ['auto', 'js', 'tfjs'] as const;
export type ToyEngine = (typeof TOY_ENGINES)[number];

export interface ToyConfig {
  model: ToyModel;
  /** n: number of input features. */
  features: number;
  /** m: hidden dimensions (linear, relu-out) or hidden neurons (relu-hidden, abs). */
  hidden: number;
  instances: number;
  /** One probability for every instance, or [a, b] spread geometrically from a to b across the instances. */
  feature_prob: number | [number, number];
  /** Importance of feature i is importance_decay^i, unless `importance` lists them. */
  importance_decay: number;
  importance?: number[];
  steps: number;
  batch: number;
  lr: number;
  weight_decay: number;
  seed: number;
  /** relu-hidden / abs: W2 = W1^T. */
  tied: boolean;
  engine: ToyEngine;
  /** JS engine: worker threads to split instances across (0 = decide from the work size). */
  workers: number;
}

export const TOY_DEFAULTS: Omit<ToyConfig, 'model' | 'features' | 'hidden'> = {
  instances: 1,
  feature_prob: 1,
  importance_decay: 1,
  steps: 10000,
  batch: 1024,
  lr: 1e-3,
  weight_decay: 0.01,
  seed: 0,
  tied: false,
  engine: 'auto',
  workers: 0,
};

/** Fills defaults and checks every field; errors name the CLI flag the field comes from. */
export function resolveConfig(partial: Partial<ToyConfig> & Pick<ToyConfig, 'model' | 'features' | 'hidden'>): ToyConfig {
  const c: ToyConfig = { ...TOY_DEFAULTS, ...partial } as ToyConfig;
  for (const k of Object.keys(c) as (keyof ToyConfig)[]) if (c[k] === undefined) delete c[k];
  if (!(TOY_MODELS as readonly string[]).includes(c.model)) {
    throw new UsageError(`--model must be one of ${TOY_MODELS.join(', ')}; got '${c.model}'`, 'model');
  }
  if (!(TOY_ENGINES as readonly string[]).includes(c.engine)) {
    throw new UsageError(`--engine must be one of ${TOY_ENGINES.join(', ')}; got '${c.engine}'`, 'engine');
  }
  intAtLeast('features', c.features, 1);
  intAtLeast('hidden', c.hidden, 1);
  intAtLeast('instances', c.instances, 1);
  intAtLeast('steps', c.steps, 0);
  intAtLeast('batch', c.batch, 1);
  intAtLeast('seed', c.seed, 0);
  intAtLeast('workers', c.workers, 0);
  positive('lr', c.lr);
  if (!Number.isFinite(c.weight_decay) || c.weight_decay < 0) {
    throw new UsageError(`--weight-decay must be a number >= 0, got ${c.weight_decay}`, 'weight-decay');
  }
  const probs = Array.isArray(c.feature_prob) ? c.feature_prob : [c.feature_prob];
  for (const p of probs) {
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) {
      throw new UsageError(`--feature-prob must be probabilities in [0, 1], got ${JSON.stringify(c.feature_prob)}`, 'feature-prob');
    }
  }
  if (Array.isArray(c.feature_prob) && c.feature_prob[0] !== c.feature_prob[1]) {
    if (c.feature_prob[0] <= 0 || c.feature_prob[1] <= 0) {
      throw new UsageError('--feature-prob a:b spreads geometrically, so a and b must both be > 0', 'feature-prob');
    }
  }
  if (!Number.isFinite(c.importance_decay) || c.importance_decay <= 0) {
    throw new UsageError(`--importance-decay must be a number > 0, got ${c.importance_decay}`, 'importance-decay');
  }
  if (c.importance !== undefined) {
    if (c.importance.length !== c.features) {
      throw new UsageError(`--importance lists ${c.importance.length} values but --features is ${c.features}`, 'importance');
    }
    for (const v of c.importance) {
      if (!Number.isFinite(v) || v < 0) throw new UsageError(`--importance values must be numbers >= 0, got ${v}`, 'importance');
    }
  }
  return c;
}

function intAtLeast(flag: string, v: number, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new UsageError(`--${flag} must be a whole number >= ${min}, got ${v}`, flag);
  }
}

function positive(flag: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new UsageError(`--${flag} must be a number > 0, got ${v}`, flag);
}

/** Parses the --feature-prob flag: 'p' or 'a:b'. */
export function parseFeatureProb(raw: string): number | [number, number] {
  const parts = raw.split(':');
  if (parts.length > 2) throw new UsageError(`--feature-prob takes p or a:b, got '${raw}'`, 'feature-prob');
  const nums = parts.map((s) => {
    const v = s.trim() === '' ? NaN : Number(s);
    if (!Number.isFinite(v)) throw new UsageError(`--feature-prob must be a number or a:b, got '${raw}'`, 'feature-prob');
    if (v < 0 || v > 1) throw new UsageError(`--feature-prob must lie in [0, 1], got '${raw}'`, 'feature-prob');
    return v;
  });
  return nums.length === 1 ? nums[0]! : [nums[0]!, nums[1]!];
}

/** The feature probability of each instance: geometric from a to b, as in Anthropic's notebook. */
export function featureProbs(c: Pick<ToyConfig, 'feature_prob' | 'instances'>): number[] {
  if (!Array.isArray(c.feature_prob)) return new Array<number>(c.instances).fill(c.feature_prob);
  const [a, b] = c.feature_prob;
  if (c.instances === 1) return [a];
  if (a === b) return new Array<number>(c.instances).fill(a);
  return Array.from({ length: c.instances }, (_, k) => (k === c.instances - 1 ? b : a * Math.pow(b / a, k / (c.instances - 1))));
}

/** Importance of each feature. */
export function importances(c: Pick<ToyConfig, 'importance' | 'importance_decay' | 'features'>): Float32Array {
  if (c.importance) return Float32Array.from(c.importance);
  return Float32Array.from({ length: c.features }, (_, i) => Math.pow(c.importance_decay, i));
}

export function hasNeurons(model: ToyModel): boolean {
  return model === 'relu-hidden' || model === 'abs';
}

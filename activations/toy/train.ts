/**
 * trainToy: what the CLI and notebooks call. Resolves the config, trains every instance with the chosen
 * engine, and measures the result (metrics, geometry, neuron labels).
 */
import { isInstalled, Rng } from '../../lab/core/index.ts';
import { featureProbs, hasNeurons, importances, resolveConfig, type ToyConfig } from './config.ts';
import { evalLoss, instanceSeed, type JsJob, type JsInstanceResult } from './engine-js.ts';
import { trainJsParallel } from './engine-pool.ts';
import { featureGeometry, geometrySummary, type FeatureGroup } from './geometry.ts';
import { namedWeights, type ModelSpec } from './layout.ts';
import { featureMetrics, type FeatureMetrics } from './metrics.ts';
import { neuronLabels, type NeuronInfo } from './neurons.ts';

export interface ToyInstance extends FeatureMetrics {
  instance: number;
  feature_prob: number;
  /** Loss of the final weights on EVAL_ROWS fresh samples. */
  loss: number;
  /** features x hidden: W (linear, relu-out) or W1^T (relu-hidden, abs). */
  W: number[][];
  /** Output bias (b2 for relu-hidden / abs). */
  b: number[];
  geometry: FeatureGroup[];
  shape: string;
  /** relu-hidden / abs: W1 [neurons x features], b1, W2 [features x neurons], b2. */
  W1?: number[][];
  b1?: number[];
  W2?: number[][];
  b2?: number[];
  neurons?: NeuronInfo[];
}

export interface ToyResult {
  config: ToyConfig;
  instances: ToyInstance[];
  /** The engine that ran ('js' or 'tfjs') and, for tfjs, its backend. */
  engine: 'js' | 'tfjs';
  backend?: string;
  train_seconds: number;
}

export interface TrainOptions {
  /** Called every chunk of steps with the mean training loss over instances. */
  onProgress?: (step: number, steps: number, meanLoss: number) => void;
  /** tfjs backend to force (the CLI's --backend). */
  backend?: string;
}

export const EVAL_ROWS = 4096;

export function specOf(c: ToyConfig): ModelSpec {
  return { model: c.model, n: c.features, m: c.hidden, tied: hasNeurons(c.model) && c.tied };
}

/** The JS engine's job for a resolved config: one instance per entry of `probs`, indexed from 0. */
export function jobFor(config: ToyConfig, importance: Float32Array, probs: number[]): JsJob {
  return {
    spec: specOf(config),
    steps: config.steps,
    batch: config.batch,
    lr: config.lr,
    weightDecay: config.weight_decay,
    seed: config.seed,
    importance,
    instances: probs.map((_, i) => i),
    probs,
  };
}

export async function trainToy(partial: Parameters<typeof resolveConfig>[0], opts: TrainOptions = {}): Promise<ToyResult> {
  const config = resolveConfig(partial);
  const spec = specOf(config);
  const probs = featureProbs(config);
  const importance = importances(config);
  const job = jobFor(config, importance, probs);
  let engine: 'js' | 'tfjs' = config.engine === 'tfjs' ? 'tfjs' : 'js';
  let backend: string | undefined;
  // tfjs (about a second of start-up with the wasm backend) loads only when it may be used: a forced
  // backend or engine, or auto with tfjs-node-gpu installed. Auto without it is the JS engine for certain.
  const forced = opts.backend !== undefined || process.env.LAB_BACKEND !== undefined;
  if (config.engine === 'tfjs' || forced || (config.engine === 'auto' && isInstalled('@tensorflow/tfjs-node-gpu'))) {
    const { activeBackend, initBackend } = await import('../../lab/core/backend.ts');
    const report = await initBackend(opts.backend);
    if (config.engine === 'auto') engine = report.active === 'node-gpu' ? 'tfjs' : 'js';
    if (engine === 'tfjs') backend = activeBackend();
  }
  const onChunk = (done: number, loss: number) => opts.onProgress?.(done, config.steps, loss);
  const t0 = performance.now();
  let results: JsInstanceResult[];
  if (engine === 'tfjs') {
    const { trainTfjs } = await import('./engine-tfjs.ts');
    results = await trainTfjs(job, onChunk);
  } else {
    results = await trainJsParallel(job, config.workers, onChunk);
  }
  const train_seconds = (performance.now() - t0) / 1000;
  const instances = results.map((r) => describeInstance(config, spec, r.instance, probs[r.instance]!, r.params, importance));
  return { config, instances, engine, backend, train_seconds };
}

/** Metrics, geometry and neuron labels of one trained instance. */
export function describeInstance(
  config: ToyConfig,
  spec: ModelSpec,
  instance: number,
  p: number,
  params: Float32Array,
  importance: Float32Array,
): ToyInstance {
  const w = namedWeights(spec, params);
  const loss = evalLoss(spec, params, p, importance, EVAL_ROWS, new Rng(instanceSeed(config.seed, instance, 2)));
  const geometry = featureGeometry(w.W);
  const out: ToyInstance = {
    instance,
    feature_prob: p,
    loss,
    W: w.W,
    b: w.b,
    ...featureMetrics(w.W),
    geometry,
    shape: geometrySummary(geometry),
  };
  if (hasNeurons(spec.model)) {
    Object.assign(out, { W1: w.W1, b1: w.b1, W2: w.W2, b2: w.b2, neurons: neuronLabels(spec.model, w.W1!, w.b1!, p) });
  }
  return out;
}

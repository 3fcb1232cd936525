/**
 * The JS training engine: each instance trains on its own data stream with the hand-written kernels and
 * a fused AdamW. Instances are independent, so a set of them can run in any thread; every random
 * stream is seeded from (seed, instance), so the result does not depend on how instances are split.
 */
import { NumericError } from '../../lab/core/index.ts';
import { Rng } from '../../lab/core/index.ts';
import { adamState, adamwStep } from './adamw.ts';
import { allocBatch, sampleInto } from './data.ts';
import { choosePath, lossAndGrad, sampleDenseLossAndGrad, workspace, type KernelPath } from './kernels.ts';
import { initParams, type ModelSpec } from './layout.ts';

/** Streams of one instance: 0 initialisation, 1 training data, 2 evaluation data. */
export function instanceSeed(seed: number, instance: number, stream: number): number {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
  h = Math.imul(h ^ (instance + 0x632be5ab), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (stream + 0x2545f491), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

export interface JsJob {
  spec: ModelSpec;
  steps: number;
  batch: number;
  lr: number;
  weightDecay: number;
  seed: number;
  importance: Float32Array;
  /** Instance indices (for seeding and messages) and their feature probabilities. */
  instances: number[];
  probs: number[];
  path?: KernelPath;
  /** Steps between progress calls. */
  chunk?: number;
}

export interface JsInstanceResult {
  instance: number;
  params: Float32Array;
  /** Training loss of the last step. */
  lastLoss: number;
}

/**
 * Trains the job's instances. Instances advance together in chunks of steps, each instance running a
 * whole chunk before the next so its weights and scratch stay in cache.
 */
export function trainJs(job: JsJob, onChunk?: (stepsDone: number, meanLoss: number) => void): JsInstanceResult[] {
  const { spec, batch } = job;
  const states = job.instances.map((inst, k) => {
    const p = job.probs[k]!;
    const path = !job.path || job.path === 'auto' ? choosePath(spec, p, batch) : job.path;
    const params = initParams(spec, new Rng(instanceSeed(job.seed, inst, 0)));
    return {
      inst,
      p,
      path,
      params,
      grad: new Float32Array(params.length),
      adam: adamState(params.length),
      ws: workspace(spec, path === 'gram'),
      data: new Rng(instanceSeed(job.seed, inst, 1)),
      batch: allocBatch(path === 'dense' ? 1 : batch, spec.n, p),
      loss: NaN,
    };
  });
  const symmetric = spec.model === 'abs';
  const hyper = { lr: job.lr, weightDecay: job.weightDecay };
  const chunk = Math.max(1, job.chunk ?? 50);
  for (let done = 0; done < job.steps; ) {
    const todo = Math.min(chunk, job.steps - done);
    let sum = 0;
    for (const s of states) {
      for (let t = 0; t < todo; t++) {
        let loss: number;
        if (s.path === 'dense') {
          loss = sampleDenseLossAndGrad(s.ws, s.params, s.grad, batch, s.p, s.data, job.importance);
        } else {
          sampleInto(s.batch, s.p, symmetric, s.data);
          loss = lossAndGrad(s.ws, s.params, s.grad, s.batch, job.importance, s.path);
        }
        if (!Number.isFinite(loss)) {
          throw new NumericError(
            `loss became ${loss} at step ${done + t + 1} of instance ${s.inst} (feature prob ${s.p.toPrecision(3)}): ` +
              `lower --lr (now ${job.lr})`,
          );
        }
        adamwStep(s.params, s.grad, s.adam, hyper);
        s.loss = loss;
      }
      sum += s.loss;
    }
    done += todo;
    onChunk?.(done, sum / states.length);
  }
  return states.map((s) => ({ instance: s.inst, params: s.params, lastLoss: s.loss }));
}

/** Loss of trained weights on fresh data (`rows` samples), for the reported per-instance loss. */
export function evalLoss(spec: ModelSpec, params: Float32Array, p: number, importance: Float32Array, rows: number, rng: Rng): number {
  const b = allocBatch(rows, spec.n, p);
  sampleInto(b, p, spec.model === 'abs', rng);
  const path = choosePath(spec, p, rows);
  return lossAndGrad(workspace(spec, path === 'gram'), params, new Float32Array(params.length), b, importance, path);
}

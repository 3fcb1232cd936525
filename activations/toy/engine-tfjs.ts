/**
 * The tfjs engine: the same models, loss and AdamW as the JS engine, written as tfjs ops with autodiff
 * over a leading instances dimension, so that it runs on whichever backend lab/core/backend.ts picked
 * (CUDA through tfjs-node-gpu when present). Data and initial weights come from the same seeded streams
 * as the JS engine, so the two engines follow the same trajectory up to float rounding.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { tf } from '../../lab/core/backend.ts';
import { NumericError } from '../../lab/core/index.ts';
import { Rng } from '../../lab/core/index.ts';
import { hasNeurons } from './config.ts';
import { allocBatch, densify, sampleInto } from './data.ts';
import { instanceSeed, type JsInstanceResult, type JsJob } from './engine-js.ts';
import { initParams, layout, type ModelSpec } from './layout.ts';

interface Block {
  name: string;
  off: number;
  rows: number;
  cols: number;
}

/** The weight blocks of the flat layout, each trained as one [instances, rows, cols] variable. */
export function blocks(spec: ModelSpec): Block[] {
  const L = layout(spec);
  const { n, m } = spec;
  if (!hasNeurons(spec.model)) return [{ name: 'W', off: L.w, rows: n, cols: m }, { name: 'b', off: L.bOut, rows: 1, cols: n }];
  const out: Block[] = [{ name: 'A', off: L.w, rows: n, cols: m }, { name: 'b1', off: L.b1, rows: 1, cols: m }];
  if (!spec.tied) out.push({ name: 'W2', off: L.w2, rows: n, cols: m });
  out.push({ name: 'b2', off: L.bOut, rows: 1, cols: n });
  return out;
}

function stack(params: Float32Array[], b: Block): tf.Tensor3D {
  const size = b.rows * b.cols;
  const buf = new Float32Array(params.length * size);
  params.forEach((p, i) => buf.set(p.subarray(b.off, b.off + size), i * size));
  return tf.tensor3d(buf, [params.length, b.rows, b.cols]);
}

function unstack(data: Float32Array, b: Block, into: Float32Array[]): void {
  const size = b.rows * b.cols;
  into.forEach((p, i) => p.set(data.subarray(i * size, (i + 1) * size), b.off));
}

/** Per-instance losses [I] of a batch x [I, B, n]; `w` maps block names to [I, rows, cols] tensors. */
function lossPerInstance(spec: ModelSpec, w: Record<string, tf.Tensor3D>, x: tf.Tensor3D, imp: tf.Tensor1D): tf.Tensor1D {
  let out: tf.Tensor3D;
  let target: tf.Tensor3D = x;
  if (!hasNeurons(spec.model)) {
    const h = tf.matMul(x, w.W!);
    const pre = tf.add(tf.matMul(h, w.W!, false, true), w.b!) as tf.Tensor3D;
    out = spec.model === 'relu-out' ? tf.relu(pre) : pre;
  } else {
    const h = tf.relu(tf.add(tf.matMul(x, w.A!), w.b1!));
    const pre = tf.add(tf.matMul(h, spec.tied ? w.A! : w.W2!, false, true), w.b2!);
    out = tf.relu(pre) as tf.Tensor3D;
    if (spec.model === 'abs') target = tf.abs(x);
  }
  const err = tf.mul(tf.square(tf.sub(out, target)), imp);
  return tf.mean(tf.sum(err, 2), 1) as tf.Tensor1D;
}

/** Losses and gradients for given weights and a dense batch, as flat per-instance vectors (for tests). */
export function tfLossAndGrads(
  spec: ModelSpec,
  params: Float32Array[],
  x: Float32Array,
  rows: number,
  importance: Float32Array,
): { loss: Float32Array; grads: Float32Array[] } {
  const bl = blocks(spec);
  const grads = params.map((p) => new Float32Array(p.length));
  const lossOut = tf.tidy(() => {
    const ws = bl.map((b) => stack(params, b));
    const xt = tf.tensor3d(x, [params.length, rows, spec.n]);
    const imp = tf.tensor1d(importance);
    const f = (...t: tf.Tensor[]) => {
      const named = Object.fromEntries(bl.map((b, i) => [b.name, t[i] as tf.Tensor3D]));
      return tf.sum(lossPerInstance(spec, named, xt, imp));
    };
    const g = tf.grads(f)(ws);
    g.forEach((gt, i) => unstack(gt.dataSync() as Float32Array, bl[i]!, grads));
    const named = Object.fromEntries(bl.map((b, i) => [b.name, ws[i]!]));
    return lossPerInstance(spec, named, xt, imp).dataSync() as Float32Array;
  });
  return { loss: Float32Array.from(lossOut), grads };
}

export async function trainTfjs(job: JsJob, onChunk?: (done: number, loss: number) => void): Promise<JsInstanceResult[]> {
  const { spec, batch } = job;
  const I = job.instances.length;
  const bl = blocks(spec);
  const params = job.instances.map((inst) => initParams(spec, new Rng(instanceSeed(job.seed, inst, 0))));
  // tf.variable keeps its own reference, so the initial tensors are disposed right after.
  const variable = (init: tf.Tensor, trainable: boolean) => {
    const v = tf.variable(init, trainable);
    init.dispose();
    return v;
  };
  const vars = bl.map((b) => variable(stack(params, b), true));
  const ms = bl.map((b) => variable(tf.zeros([I, b.rows, b.cols]), false));
  const vs = bl.map((b) => variable(tf.zeros([I, b.rows, b.cols]), false));
  const rngs = job.instances.map((inst) => new Rng(instanceSeed(job.seed, inst, 1)));
  const sparse = job.probs.map((p) => allocBatch(batch, spec.n, p));
  const imp = tf.tensor1d(job.importance);
  const xbuf = new Float32Array(I * batch * spec.n);
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  const chunk = Math.max(1, job.chunk ?? 50);
  let lastLoss: Float32Array = new Float32Array(I).fill(NaN);
  try {
    for (let done = 0; done < job.steps; ) {
      const todo = Math.min(chunk, job.steps - done);
      let lossT: tf.Tensor1D | undefined;
      for (let s = 0; s < todo; s++) {
        for (let k = 0; k < I; k++) {
          sampleInto(sparse[k]!, job.probs[k]!, spec.model === 'abs', rngs[k]!);
          xbuf.set(densify(sparse[k]!).x, k * batch * spec.n);
        }
        const t = done + s + 1;
        lossT?.dispose();
        lossT = tf.tidy(() => {
          const x = tf.tensor3d(xbuf, [I, batch, spec.n]);
          const named = () => Object.fromEntries(bl.map((b, i) => [b.name, vars[i]! as unknown as tf.Tensor3D]));
          const { value, grads } = tf.variableGrads(() => tf.sum(lossPerInstance(spec, named(), x, imp)), vars);
          const stepSize = job.lr / (1 - Math.pow(b1, t));
          const sqrtBc2 = Math.sqrt(1 - Math.pow(b2, t));
          vars.forEach((v, i) => {
            const g = grads[v.name]!;
            const m = tf.add(tf.mul(ms[i]!, b1), tf.mul(g, 1 - b1));
            const vv = tf.add(tf.mul(vs[i]!, b2), tf.mul(tf.square(g), 1 - b2));
            ms[i]!.assign(m);
            vs[i]!.assign(vv);
            const upd = tf.div(tf.mul(m, stepSize), tf.add(tf.div(tf.sqrt(vv), sqrtBc2), eps));
            v.assign(tf.sub(tf.mul(v, 1 - job.lr * job.weightDecay), upd));
          });
          value.dispose();
          const namedNow = Object.fromEntries(bl.map((b, i) => [b.name, vars[i]! as unknown as tf.Tensor3D]));
          return lossPerInstance(spec, namedNow, x, imp);
        });
      }
      lastLoss = (await lossT!.data()) as Float32Array;
      lossT!.dispose();
      done += todo;
      const bad = lastLoss.findIndex((l) => !Number.isFinite(l));
      if (bad >= 0) {
        throw new NumericError(
          `loss became ${lastLoss[bad]} by step ${done} of instance ${job.instances[bad]} (feature prob ${job.probs[bad]!.toPrecision(3)}): ` +
            `lower --lr (now ${job.lr})`,
        );
      }
      onChunk?.(done, lastLoss.reduce((a, b) => a + b, 0) / I);
    }
    for (let i = 0; i < bl.length; i++) unstack((await vars[i]!.data()) as Float32Array, bl[i]!, params);
  } finally {
    [...vars, ...ms, ...vs].forEach((v) => v.dispose());
    imp.dispose();
  }
  return job.instances.map((inst, k) => ({ instance: inst, params: params[k]!, lastLoss: lastLoss[k]! }));
}

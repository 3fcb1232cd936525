/**
 * The loss and gradients of one batch, shared by the trainer's own thread and its helper worker
 * (lab/lm/grad-worker.ts), so both halves of a data-parallel step run exactly the same computation.
 */
import type { Gpt2 } from '../../activations/index.ts';
import { tf } from '../core/backend.ts';
import { headLoss } from './head.ts';
import { finalHidden } from './hidden.ts';

/** Mean cross-entropy over `rows` windows of `context` tokens and its gradient by HF variable name. */
export function batchGrads(model: Gpt2, inputs: Int32Array, targets: Int32Array, rows: number, context: number): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const d = model.config.dModel;
  const varList = [...model.variables.values()];
  const nameOf = new Map([...model.variables].map(([hf, v]) => [v.name, hf]));
  const wte = model.variables.get('transformer.wte.weight')!;
  const ids = tf.tensor2d(inputs, [rows, context], 'int32');
  // finalHidden's value is a hook-cache tensor, kept out of variableGrads' tidy: disposed here, after
  // the backward pass (it leaked one [rows x context x d] tensor per step before, ~1 GB over a run).
  let hidden: tf.Tensor | undefined;
  const { value, grads: byVar } = tf.variableGrads(() => {
    hidden = finalHidden(model, ids);
    const h = tf.reshape(hidden, [rows * context, d]) as tf.Tensor2D;
    return headLoss(h, wte as tf.Tensor as tf.Tensor2D, targets);
  }, varList);
  hidden?.dispose();
  ids.dispose();
  const grads: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(byVar)) grads[nameOf.get(k) ?? k] = g;
  return { loss: value, grads };
}

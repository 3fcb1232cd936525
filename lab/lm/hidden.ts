/**
 * The final hidden states (after ln_f) of a lab GPT-2, without its unembedding (lab/lm/head.ts computes
 * the head and its loss with its own gradient).
 *
 * It must run the shared forward pass with `differentiable` set: the default (inference) path computes
 * attention on host copies of q, k and v, which cuts the gradient to the attention weights, so a model
 * trained through it keeps ln_1 and c_attn at their initial values (the first default model did; see
 * lab/lm/train.test.ts, which checks that every variable gets a gradient).
 */
import type { Gpt2 } from '../../activations/index.ts';
import { transformerForward } from '../../activations/index.ts';
import type { tf } from '../core/backend.ts';

const FINAL = 'ln_final.hook_normalized';

/** [batch, seq, d] hidden states after the final layer norm; differentiable in the model's variables. */
export function finalHidden(model: Gpt2, ids: tf.Tensor2D): tf.Tensor3D {
  const { logits, cache } = transformerForward(model.config, model.params, ids, { names: [FINAL], logits: false }, true);
  logits.dispose();
  return cache.get(FINAL)! as tf.Tensor3D;
}

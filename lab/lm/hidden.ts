/**
 * The final hidden states (after ln_f) of a lab GPT-2, without its unembedding.
 *
 * The shared forward pass always ends in logits over the whole vocabulary, as a transposed matMul that
 * is slow on wasm and that training here replaces by lab/lm/head.ts. So the pass runs on a view of the
 * same variables whose config says vocab 1 and whose head is a single zero row: the costly product
 * shrinks to [N, d] x [d, 1], and `ln_final.hook_normalized` (cached through a differentiable clone)
 * carries the gradient back into every variable. A `forward` option to skip the unembedding in
 * activations/models would make this view unnecessary.
 */
import { Gpt2 } from '../../activations/models/index.ts';
import { tf } from '../backend.ts';

const FINAL = 'ln_final.hook_normalized';
const bodies = new WeakMap<Gpt2, Gpt2>();
let made = 0;

function bodyOf(model: Gpt2): Gpt2 {
  let body = bodies.get(model);
  if (!body) {
    const vars = new Map(model.variables);
    vars.set('lm_head.weight', tf.variable(tf.zeros([1, model.config.dModel]), false, `lm-body-head-${made++}`));
    body = new Gpt2({ ...model.config, vocabSize: 1, tiedEmbeddings: false }, vars);
    bodies.set(model, body);
  }
  return body;
}

/** [batch, seq, d] hidden states after the final layer norm; differentiable in the model's variables. */
export function finalHidden(model: Gpt2, ids: tf.Tensor2D): tf.Tensor3D {
  const { logits, cache } = bodyOf(model).forward(ids, { names: [FINAL] });
  logits.dispose();
  return cache.get(FINAL)! as tf.Tensor3D;
}

/**
 * Recall of a trained facts model: top-1 accuracy at the last position of each held-out query prompt
 * on the attribute's token (the attribute after one space must be a single token of the model's
 * tokenizer; queries where it is not are counted apart, never scored as misses).
 */
import type { Tokenizer } from '../../activations/index.ts';
import { tf } from '../core/backend.ts';
import type { KbQuery } from './facts.ts';

/** Biographies per subject when `--copies` is not given. */
export const FACT_COPIES = 40;

export interface FactsAccuracy {
  queries: number;
  correct: number;
  accuracy: number;
  /** Queries whose attribute is not one token (not scored). */
  multi_token_attributes: number;
}

interface Forwarder {
  forward(ids: tf.Tensor2D): { logits: tf.Tensor3D; cache: Map<string, tf.Tensor> };
}

export function factsAccuracy(model: Forwarder, tokenizer: Tokenizer, queries: readonly Pick<KbQuery, 'prompt' | 'attribute'>[]): FactsAccuracy {
  // Group prompts by token length so each group is one batched forward pass.
  const groups = new Map<number, { ids: number[]; target: number }[]>();
  let multi = 0;
  for (const q of queries) {
    const target = tokenizer.encode(' ' + q.attribute);
    if (target.length !== 1) {
      multi++;
      continue;
    }
    const ids = tokenizer.encode(q.prompt);
    groups.set(ids.length, [...(groups.get(ids.length) ?? []), { ids, target: target[0]! }]);
  }
  let correct = 0;
  let scored = 0;
  for (const [len, items] of groups) {
    const ids = tf.tensor2d(items.flatMap((x) => x.ids), [items.length, len], 'int32');
    const { logits, cache } = model.forward(ids);
    const last = tf.tidy(() => tf.argMax(tf.squeeze(tf.slice(logits, [0, len - 1, 0], [items.length, 1, -1]), [1]), -1));
    const top = last.dataSync();
    items.forEach((x, i) => {
      scored++;
      if (top[i] === x.target) correct++;
    });
    tf.dispose([ids, logits, last, ...cache.values()]);
  }
  return { queries: scored, correct, accuracy: scored === 0 ? 0 : correct / scored, multi_token_attributes: multi };
}

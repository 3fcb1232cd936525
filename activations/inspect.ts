/**
 * One text through a model: one hook's values and the top-5 next-token logits per position, the data
 * behind `lab inspect` (its --json shape is documented in `lab inspect --help`).
 */
import { tf } from '../lab/core/backend.ts';
import { UsageError } from '../lab/core/index.ts';
import { resolveHooks } from './models/index.ts';
import type { LanguageModel } from './types.ts';

export interface InspectResult {
  tokens: string[];
  ids: number[];
  hook: string;
  shape: number[];
  values: number[][];
  logits_top5: [number, number][][];
}

/** The library function behind the command: runs `text` through `model` and reads `hook`. */
export function inspectText(model: LanguageModel, text: string, hookPattern: string): InspectResult {
  const names = model.hookNames();
  const hooks = resolveHooks([hookPattern], names, model.config.nLayers, names.includes('hook_pos_embed'));
  if (hooks.length !== 1) {
    throw new UsageError(`--hook '${hookPattern}' matches ${hooks.length} hooks (${hooks.slice(0, 4).join(', ')}, ...); give exactly one`, 'hook');
  }
  const hook = hooks[0]!;
  const ids = model.tokenizer.encode(text);
  if (ids.length === 0) throw new UsageError('--text encodes to no tokens', 'text');
  if (ids.length > model.config.contextLength) {
    throw new UsageError(`--text is ${ids.length} tokens long; the model's context window is ${model.config.contextLength} tokens`, 'text');
  }
  const input = tf.tensor2d([ids], [1, ids.length], 'int32');
  const { logits, cache } = model.forward(input, { names: [hook] });
  try {
    const value = cache.get(hook)!;
    const S = ids.length;
    // Pattern and scores are [batch, head, query, key]: put the query position first.
    const rows = tf.tidy(() => {
      const v = value.shape.length === 4 && /attn\.hook_(pattern|attn_scores)$/.test(hook) ? tf.transpose(value, [0, 2, 1, 3]) : value;
      return tf.reshape(v, [S, -1]).arraySync() as number[][];
    });
    const top = tf.topk(tf.reshape(logits, [S, -1]), 5);
    const idx = top.indices.arraySync() as number[][];
    const val = top.values.arraySync() as number[][];
    tf.dispose([top.indices, top.values]);
    return {
      tokens: ids.map((id) => model.tokenizer.decode([id])),
      ids,
      hook,
      shape: [...value.shape],
      values: rows,
      logits_top5: idx.map((r, i) => r.map((id, j) => [id, val[i]![j]!] as [number, number])),
    };
  } finally {
    tf.dispose([input, logits, ...cache.values()]);
  }
}

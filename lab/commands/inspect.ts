/**
 * `lab inspect --model DIR --text "..." --hook NAME [--json]`: one text through a model, one hook's
 * values and the top-5 next-token logits per position. The quickest look inside a model, and the
 * interface an outside check uses (the --json shape is documented in `lab inspect --help`).
 */
import { parseFlags, required, usage, type FlagSpecs } from './args.ts';
import { initBackend, tf } from '../core/backend.ts';
import { UsageError } from '../core/index.ts';
import { loadModel } from '../../activations/index.ts';
import { resolveHooks } from '../../activations/index.ts';
import type { LanguageModel } from '../../activations/index.ts';

const SUMMARY =
  'Run one text through a model and print one hook\'s values and the top-5 logits per position.\n' +
  'JSON: {"tokens", "ids", "hook", "shape" (the hook\'s full shape, batch 1), "values" (one row per\n' +
  'position: the hook\'s values at that position flattened; for attn.hook_pattern/hook_attn_scores the\n' +
  'row is [head][key]), "logits_top5": per position [[id, logit] x5]}.';

const FLAGS: FlagSpecs = {
  model: { type: 'string', help: 'model folder in the Hugging Face layout (config.json, model.safetensors, tokenizer.json)' },
  text: { type: 'string', help: 'the text to run' },
  hook: { type: 'string', help: "hook name, e.g. blocks.0.mlp.hook_post (a glob must match exactly one)", default: 'blocks.0.mlp.hook_post' },
  json: { type: 'boolean', help: 'print JSON on stdout' },
  backend: { type: 'string', help: 'force a tfjs backend (node-gpu, node, wasm, cpu)' },
  help: { type: 'boolean', help: 'show this help' },
};

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

function readable(r: InspectResult, model: LanguageModel): string {
  const lines = [`hook ${r.hook}, shape [${r.shape.join(', ')}]`, ''];
  lines.push('pos  token            |hook|    max (at)        top-5 next tokens');
  r.tokens.forEach((t, i) => {
    const row = r.values[i]!;
    let max = -Infinity;
    let at = -1;
    let sq = 0;
    row.forEach((v, j) => {
      sq += v * v;
      if (v > max) [max, at] = [v, j];
    });
    const top = r.logits_top5[i]!.map(([id, l]) => `${JSON.stringify(model.tokenizer.decode([id]))} ${l.toFixed(2)}`).join(', ');
    lines.push(`${String(i).padEnd(4)} ${JSON.stringify(t).padEnd(16)} ${Math.sqrt(sq).toFixed(3).padStart(9)} ${max.toFixed(3).padStart(9)} (${at})`.padEnd(50) + `  ${top}`);
  });
  return lines.join('\n');
}

export async function inspectCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, FLAGS);
  if (parsed.flags.help) {
    process.stdout.write(usage('inspect', SUMMARY, FLAGS) + '\n');
    return 0;
  }
  const dir = required<string>(parsed, 'model');
  const text = required<string>(parsed, 'text');
  await initBackend(parsed.flags.backend as string | undefined);
  const model = await loadModel(dir);
  try {
    const r = inspectText(model, text, parsed.flags.hook as string);
    process.stdout.write((parsed.flags.json ? JSON.stringify(r) : readable(r, model)) + '\n');
    return 0;
  } finally {
    model.dispose();
  }
}

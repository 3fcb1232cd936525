/**
 * `lab inspect --model DIR --text "..." --hook NAME [--json]`: one text through a model, one hook's
 * values and the top-5 next-token logits per position. The quickest look inside a model, and the
 * interface an outside check uses (the --json shape is documented in `lab inspect --help`).
 */
import { parseFlags, required, usage, type FlagSpecs } from './args.ts';
import type { InspectResult, LanguageModel } from '../../activations/index.ts';

const SUMMARY =
  'Run one text through a model and print one hook\'s values and the top-5 logits per position.\n' +
  'JSON: {"tokens", "ids", "hook", "shape" (the hook\'s full shape, batch 1), "values" (one row per\n' +
  'position: the hook\'s values at that position flattened; for attn.hook_pattern/hook_attn_scores the\n' +
  'row is [head][key]), "logits_top5": per position [[id, logit] x5]}.';

const FLAGS: FlagSpecs = {
  model: { type: 'string', help: 'model folder in the Hugging Face layout (config.json, model.safetensors or pytorch_model.bin, tokenizer.json), or a Hub repo id in the local Hugging Face cache' },
  revision: { type: 'string', help: 'with a Hub repo id: the cached branch, tag or commit (default main)' },
  text: { type: 'string', help: 'the text to run' },
  hook: { type: 'string', help: "hook name, e.g. blocks.0.mlp.hook_post (a glob must match exactly one)", default: 'blocks.0.mlp.hook_post' },
  json: { type: 'boolean', help: 'print JSON on stdout' },
  backend: { type: 'string', help: 'force a tfjs backend (node-gpu, node, wasm, cpu)' },
  help: { type: 'boolean', help: 'show this help' },
};

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
  const { initBackend } = await import('../core/backend.ts');
  const { inspectText, loadModel, resolveModelDir } = await import('../../activations/index.ts');
  await initBackend(parsed.flags.backend as string | undefined);
  const model = await loadModel(resolveModelDir(dir, parsed.flags.revision as string | undefined));
  try {
    const r = inspectText(model, text, parsed.flags.hook as string);
    process.stdout.write((parsed.flags.json ? JSON.stringify(r) : readable(r, model)) + '\n');
    return 0;
  } finally {
    model.dispose();
  }
}

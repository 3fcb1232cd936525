/**
 * `lab recall`: dissect factual recall (Geva et al. 2023) in a checkpoint over a facts file: attention
 * knockout per block set and layer, subject enrichment per position and layer, attribute extraction per
 * sublayer and layer. --json prints the result; --out writes it as tables `lab report` draws.
 */
import { parseFlags, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';

const FLAGS: FlagSpecs = {
  model: { type: 'string', help: 'a checkpoint folder (config.json, model.safetensors, tokenizer.json)' },
  facts: { type: 'string', help: 'JSONL, one query a line: prompt, subject_start, subject_end [, attribute, subject_attributes] (kb.jsonl from lab facts make)' },
  window: { type: 'int', help: 'knockout window K in layers (default: about a fifth of the layers, at least 1)', min: 1 },
  target: { type: 'string', help: "token whose probability the knockout tracks: the model's top-1 at the last position, or the attribute's token", choices: ['predicted', 'attribute'], default: 'predicted' },
  m: { type: 'int', help: 'top tokens (after dropping stop-words and tokens of 2 or fewer characters) scored by the attributes rate', default: 50, min: 1 },
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  out: { type: 'string', help: 'run directory for the tables (knockout.csv, enrichment.csv, enrichment-knockout.csv, extraction.csv, skipped.csv)' },
  backend: { type: 'string', help: 'force a tfjs backend (node-gpu|node|wasm|cpu)' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function recallCommand(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(usage('recall', 'Attention knockout, subject enrichment and attribute extraction (Geva et al. 2023) over a facts file.', FLAGS) + '\n');
    return 0;
  }
  if (flags.model === undefined) throw new UsageError('--model is required (a checkpoint folder)', 'model');
  if (flags.facts === undefined) throw new UsageError('--facts is required (a JSONL facts file, e.g. from lab facts make)', 'facts');
  const { initBackend } = await import('../core/backend.ts');
  await initBackend(flags.backend as string | undefined);
  const { runRecall } = await import('../recall/index.ts');
  const r = await runRecall({
    model: flags.model as string,
    facts: flags.facts as string,
    window: flags.window as number | undefined,
    target: flags.target as 'predicted' | 'attribute',
    m: flags.m as number,
    out: flags.out as string | undefined,
    command: ['lab', 'recall', ...argv].join(' '),
  });
  if (flags.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return 0;
  }
  const lines = [`${r.model}: ${r.queries} queries (${r.skipped.length} skipped), window ${r.window}, target ${r.target}, accuracy ${r.accuracy === null ? 'n/a' : (100 * r.accuracy).toFixed(1) + '%'}`];
  const layers = [...new Set(r.knockout.map((k) => k.layer))].sort((a, b) => a - b);
  const fmt = (x: number | undefined, d = 1) => (x === undefined ? '-' : x.toFixed(d)).padStart(8);
  lines.push('knockout delta_p_pct   layer: ' + layers.map((l) => String(l).padStart(8)).join(''));
  for (const b of ['subject', 'non_subject', 'last']) lines.push(`  ${b.padEnd(26)}` + layers.map((l) => fmt(r.knockout.find((k) => k.layer === l && k.block === b)?.delta_p_pct)).join(''));
  lines.push('attributes rate (raw, %)');
  for (const p of ['subject_first', 'subject_last', 'subject_next', 'last']) lines.push(`  ${p.padEnd(26)}` + layers.map((l) => fmt(r.enrichment.find((e) => e.layer === l && e.position === p && e.lens === 'raw')?.attributes_rate)).join(''));
  lines.push('extraction rate');
  for (const s of ['attn', 'mlp']) lines.push(`  ${s.padEnd(26)}` + layers.map((l) => fmt(r.extraction.find((e) => e.layer === l && e.sublayer === s)?.rate, 3)).join(''));
  for (const s of r.skipped.slice(0, 5)) lines.push(`skipped line ${s.line}: ${s.reason}`);
  if (r.skipped.length > 5) lines.push(`... and ${r.skipped.length - 5} more skipped`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

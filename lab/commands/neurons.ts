/**
 * `lab neurons --activations DIR --hook H --neurons 12,40 [...]`: the evidence behind each neuron's
 * label (top contexts, quantile samples, histogram by feature, correlated neurons; logit effects with
 * --model; label and selectivity with --classify). Prints a summary, or the pages as JSON (--json);
 * --out also writes them as neurons.json and a self-contained neurons.html in a run directory.
 */
import { indices, parseFlags, required, usage, type FlagSpecs } from './args.ts';
import { RunDir } from '../core/index.ts';
import type { NeuronPage } from '../../probes/index.ts';

const SUMMARY =
  'Evidence per neuron from an activation store: the top rows with contexts, samples per quantile of the\n' +
  'active values, a histogram over all rows and per feature, the 5 most correlated neurons; with --model\n' +
  'the direct logit effect (blocks.L.mlp.hook_post), with --classify the label and selectivity.\n' +
  'JSON: a list of pages {hook, neuron, rows, top, quantiles, histogram, correlated, logits?, classification?}.';

const FLAGS: FlagSpecs = {
  activations: { type: 'string', help: 'activation store (a harvest run directory) (required)' },
  hook: { type: 'string', help: 'hook in the store, e.g. blocks.0.mlp.hook_post (required)' },
  neurons: { type: 'list', help: 'neuron indices, comma-separated (required)' },
  top: { type: 'int', min: 1, default: 20, help: 'top rows per neuron' },
  quantiles: { type: 'int', min: 1, default: 10, help: 'quantile groups of the active values' },
  bins: { type: 'int', min: 1, default: 30, help: 'histogram bins' },
  correlated: { type: 'int', min: 0, default: 5, help: 'most correlated neurons to list (0 skips the pass)' },
  model: { type: 'string', help: 'model folder: decode contexts with its tokenizer and add logit effects' },
  classify: { type: 'string', help: 'classify run directory: label, features and selectivity' },
  seed: { type: 'int', default: 0, help: 'seed of the quantile samples' },
  out: { type: 'string', help: 'also write neurons.json and neurons.html to this run directory' },
  json: { type: 'boolean', help: 'print the pages as JSON on stdout' },
  help: { type: 'boolean', help: 'show this help' },
};

function context(p: NeuronPage['top'][number]): string {
  return p.tokens.map((t, i) => (i === p.index ? `[[${t.text}]]` : t.text)).join('').replace(/\n/g, '\\n');
}

function readable(pages: NeuronPage[]): string {
  const lines: string[] = [];
  for (const p of pages) {
    const h = p.histogram;
    lines.push(`${p.hook} neuron ${p.neuron}: ${p.rows} rows, active ${(100 * h.active_frac).toFixed(1)}%, mean ${h.mean.toFixed(4)}, std ${h.std.toFixed(4)}, max ${h.max.toFixed(4)}`);
    if (p.classification) {
      const c = p.classification;
      lines.push(`  label ${c.label} (${c.features.join(', ') || 'no feature'}); selectivity ${c.selectivity.filter((s) => s.share > 0).map((s) => `${s.feature} ${s.share.toFixed(2)}`).join(', ') || 'none'}`);
    }
    lines.push('  top rows:');
    for (const t of p.top.slice(0, 10)) lines.push(`    ${t.activation.toFixed(4).padStart(9)}  row ${String(t.row).padEnd(7)} ${context(t)}`);
    if (p.logits) {
      const fmt = (l: { token: string; value: number }) => `${JSON.stringify(l.token)} ${l.value.toFixed(3)}`;
      lines.push(`  promotes: ${p.logits.top.map(fmt).join(', ')}`);
      lines.push(`  suppresses: ${p.logits.bottom.map(fmt).join(', ')}`);
    }
    if (p.correlated.length) lines.push(`  correlated: ${p.correlated.map((c) => `${c.hook}:${c.neuron} ${c.pearson.toFixed(3)}`).join(', ')}`);
    lines.push('');
  }
  return lines.join('\n');
}

export async function neuronsCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, FLAGS);
  const f = parsed.flags;
  if (f.help) {
    process.stdout.write(usage('neurons', SUMMARY, FLAGS) + '\n');
    return 0;
  }
  const activations = required<string>(parsed, 'activations');
  const hook = required<string>(parsed, 'hook');
  const neurons = indices(required<string[]>(parsed, 'neurons'), 'neurons');
  const { neuronPages } = await import('../../probes/index.ts');
  const opts = {
    activations, hook, neurons, top: f.top as number, quantiles: f.quantiles as number, bins: f.bins as number,
    correlated: f.correlated as number, model: f.model as string | undefined, classify: f.classify as string | undefined, seed: f.seed as number,
  };
  const pages = await neuronPages(opts);
  if (f.out) {
    const { neuronPagesHtml } = await import('../../results/index.ts');
    const run = RunDir.begin(f.out as string, { kind: 'neurons', seed: opts.seed, config: opts, command: ['lab', 'neurons', ...argv].join(' ') });
    run.writeJson('neurons.json', pages);
    run.write('neurons.html', neuronPagesHtml(pages, { title: `neurons of ${hook} in ${activations}` }));
    run.finish();
  }
  process.stdout.write(f.json ? JSON.stringify(pages) + '\n' : readable(pages));
  return 0;
}

/**
 * `lab report RUN_DIR... --out report.html`: the dashboard for any mix of runs, written atomically.
 */
import { parseFlags, usage, type FlagSpecs } from './args.ts';
import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '../core/index.ts';

const SPECS: FlagSpecs = {
  out: { type: 'string', help: 'the HTML file to write', default: 'report.html' },
  title: { type: 'string', help: 'page title (default: the run names)' },
  'max-rows': { type: 'int', min: 1, help: 'rows shown per table', default: 50 },
  'allow-partial': { type: 'boolean', help: 'include runs whose manifest is not complete' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
  json: { type: 'boolean', help: 'print {"out", "bytes", "runs"} as JSON on stdout' },
  'ablate-text': { type: 'string', help: 'measure each neuron page\'s ablation (zero mode) on this UTF-8 text with the store\'s model' },
  'no-neuron-pages': { type: 'boolean', help: 'leave out the neuron pages of classify runs' },
  backend: { type: 'string', help: 'accepted for uniformity; only --ablate-text runs tfjs' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUMMARY =
  'Writes one self-contained HTML dashboard (inline SVG charts and tables, no network requests) for any\n' +
  'mix of run directories: toy, toy-sweep, harvest, probe, classify. A classify run gets a page per neuron of\n' +
  'interest (its 1-sparse and best k-sparse probes\' neurons, a few mono and poly ones), read from its store.\n' +
  'A run over an SAE latent store (lab sae encode, lab harvest --sae) gets latent pages, and with a run over\n' +
  'the neurons of the same hook and dataset a per-feature table: neurons against latents (F1 at k=1, k*, mono share).\n\n' +
  'example: lab report runs/toy runs/probe --out report.html';

export async function reportCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, SPECS);
  if (flags.help) {
    process.stdout.write(usage('report RUN_DIR...', SUMMARY, SPECS) + '\n');
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('give at least one run directory: lab report RUN_DIR... --out report.html');
  const out = flags.out as string;
  if (!out.toLowerCase().endsWith('.html') && !out.toLowerCase().endsWith('.htm')) {
    throw new UsageError(`--out should name an .html file, got '${out}'`, 'out');
  }
  let ablation: { text: string } | undefined;
  if (flags['ablate-text']) {
    const file = flags['ablate-text'] as string;
    try {
      ablation = { text: readFileSync(file, 'utf8') };
    } catch (err) {
      throw new InputError(`--ablate-text ${file}: ${(err as Error).message}`, file);
    }
  }
  const { writeReport } = await import('../../results/index.ts');
  const bytes = await writeReport(positionals, out, {
    neuronPages: flags['no-neuron-pages'] ? false : { ablation },
    title: flags.title as string | undefined,
    maxTableRows: flags['max-rows'] as number,
    allowPartial: Boolean(flags['allow-partial']),
    progress: !flags.quiet,
  });
  if (flags.json) process.stdout.write(JSON.stringify({ out, bytes, runs: positionals }) + '\n');
  else process.stdout.write(`wrote ${out} (${(bytes / 1024).toFixed(0)} KiB, ${positionals.length} run${positionals.length === 1 ? '' : 's'})\n`);
  return 0;
}

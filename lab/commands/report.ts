/**
 * `lab report RUN_DIR... --out report.html`: the dashboard for any mix of runs, written atomically.
 */
import { parseFlags, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';

const SPECS: FlagSpecs = {
  out: { type: 'string', help: 'the HTML file to write', default: 'report.html' },
  title: { type: 'string', help: 'page title (default: the run names)' },
  'max-rows': { type: 'int', min: 1, help: 'rows shown per table', default: 50 },
  'allow-partial': { type: 'boolean', help: 'include runs whose manifest is not complete' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
  json: { type: 'boolean', help: 'print {"out", "bytes", "runs"} as JSON on stdout' },
  backend: { type: 'string', help: 'accepted for uniformity; the report does not use tfjs' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUMMARY =
  'Writes one self-contained HTML dashboard (inline SVG charts and tables, no network requests) for any\n' +
  'mix of run directories: toy, toy-sweep, harvest, probe, classify.\n\n' +
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
  const { writeReport } = await import('../../results/index.ts');
  const bytes = await writeReport(positionals, out, {
    title: flags.title as string | undefined,
    maxTableRows: flags['max-rows'] as number,
    allowPartial: Boolean(flags['allow-partial']),
    progress: !flags.quiet,
  });
  if (flags.json) process.stdout.write(JSON.stringify({ out, bytes, runs: positionals }) + '\n');
  else process.stdout.write(`wrote ${out} (${(bytes / 1024).toFixed(0)} KiB, ${positionals.length} run${positionals.length === 1 ? '' : 's'})\n`);
  return 0;
}

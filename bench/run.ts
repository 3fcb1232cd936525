/**
 * `npm run bench -- NAME [args]`: runs bench/NAME.ts, which measures the lab and its peer side by side
 * in one process run and returns rows of figures; this prints them with the ratio and keeps the
 * latest result as bench/results/NAME.json (the table in bench/README.md is copied from there).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJsonAtomic, packageVersions } from '../lab/core/run-dir.ts';

export interface BenchRow {
  /** What was measured, e.g. 'toy relu-out n=20 m=5 x10 instances'. */
  case: string;
  metric: string;
  unit: string;
  lab: number;
  peer: number;
  /** lab / peer when higher is better, peer / lab when lower is better: > 1 means the lab wins. */
  ratio: number;
  higherIsBetter: boolean;
  notes?: string;
}

export interface Benchmark {
  description: string;
  peer: string;
  run(args: string[]): Promise<BenchRow[]>;
}

export function row(c: Omit<BenchRow, 'ratio'>): BenchRow {
  const ratio = c.higherIsBetter ? c.lab / c.peer : c.peer / c.lab;
  return { ...c, ratio };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const here = dirname(fileURLToPath(import.meta.url));

function available(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.replace(/\.bench\.ts$/, ''));
}

export function formatRows(rows: BenchRow[]): string {
  const lines = ['| case | metric | lab | peer | ratio (>1: lab wins) |', '|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.case} | ${r.metric} (${r.unit}) | ${fmt(r.lab)} | ${fmt(r.peer)} | ${r.ratio.toFixed(2)}x |`);
  }
  return lines.join('\n');
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = available();
  if (!name || !names.includes(name)) {
    process.stderr.write(`usage: npm run bench -- NAME [args]\navailable: ${names.join(', ') || '(none yet)'}\n`);
    return 2;
  }
  const mod = (await import(join(here, `${name}.bench.ts`))) as { default: Benchmark };
  const bench = mod.default;
  process.stderr.write(`bench ${name}: ${bench.description}\npeer: ${bench.peer}\n`);
  const rows = await bench.run(rest);
  process.stdout.write(formatRows(rows) + '\n');
  writeJsonAtomic(join(here, 'results', `${name}.json`), {
    name,
    date: new Date().toISOString(),
    command: `npm run bench -- ${argv.join(' ')}`,
    versions: packageVersions(),
    rows,
  });
  return 0;
}

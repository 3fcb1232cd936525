/**
 * `lab store verify DIR`: reads every chunk file of an activation store, checking lengths and checksums.
 * `lab store import`: activations harvested elsewhere (.npy / .safetensors) plus a labels table become a store.
 */
import { parseFlags, required, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';
import type { Aggregation, StoreDtype } from '../../activations/index.ts';

const SPECS: FlagSpecs = {
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  'allow-partial': { type: 'boolean', help: 'verify the whole chunks of a harvest that is still running or was killed' },
  help: { type: 'boolean', help: 'show this help' },
};

const IMPORT: FlagSpecs = {
  activations: { type: 'string', help: 'X.npy or X.safetensors: [rows, ...] (a row per token or per sequence) or [batch, pos, ...] (a TransformerLens cache entry) (required)' },
  hook: { type: 'list', help: '.npy: the hook name to record (default the file name without .npy); .safetensors: tensor names or globs to import (default all)' },
  labels: { type: 'string', help: 'L.csv, L.jsonl or L.parquet: one row per activation row, 0/1 feature columns, optional seq_id, position, token_id (required)' },
  'seq-ids': { type: 'string', help: "the labels' sequence id column (default 'seq_id' when present; else the batch index, or each row its own sequence)" },
  features: { type: 'list', help: 'label columns to keep (default every column but the id columns)' },
  aggregation: { type: 'string', choices: ['none', 'mean', 'max'], help: 'how one-row-per-sequence activations were made (default mean; token rows are none)' },
  dtype: { type: 'string', choices: ['f32', 'f16', 'u8'], default: 'f32', help: 'stored value type' },
  'chunk-mb': { type: 'number', min: 0.001, default: 64, help: 'chunk size in MiB of f32 values over all hooks (the memory the import holds)' },
  seed: { type: 'int', default: 0, help: 'recorded in the manifest (the import itself is deterministic)' },
  out: { type: 'string', help: 'run directory to write (required); an interrupted import there resumes' },
  overwrite: { type: 'boolean', help: 'replace a store in --out that has a different config' },
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  quiet: { type: 'boolean', help: 'no progress bar' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUMMARY = 'lab store verify DIR: checks store.json against its chunks and every chunk file against its sha256 (exit 1 at the first bad one).';
const IMPORT_SUMMARY = 'lab store import: activations saved elsewhere (numpy .npy or safetensors) and a labels table become an activation store, read a chunk at a time.';

export async function storeCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(usage('store verify', SUMMARY, SPECS) + '\n\n' + usage('store import', IMPORT_SUMMARY, IMPORT) + '\n');
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'import') return importCommand(rest);
  if (sub !== 'verify') throw new UsageError(`unknown subcommand 'store ${sub}' (verify, import)`);
  const parsed = parseFlags(rest, SPECS);
  if (parsed.flags.help) {
    process.stdout.write(usage('store verify', SUMMARY, SPECS) + '\n');
    return 0;
  }
  if (parsed.positionals.length !== 1) throw new UsageError('lab store verify takes one store directory (a harvest run directory)');
  const dir = parsed.positionals[0]!;
  const { openActivationStore } = await import('../../activations/index.ts');
  const store = openActivationStore(dir, { allowPartial: Boolean(parsed.flags['allow-partial']) });
  const r = store.verify();
  if (parsed.flags.json) process.stdout.write(JSON.stringify({ dir, ok: true, ...r, notes: store.notes }) + '\n');
  else {
    for (const n of store.notes) process.stderr.write(`note: ${n}\n`);
    process.stdout.write(`${dir}: ok: ${r.chunks} chunks, ${r.files} files, ${r.bytes} bytes${r.checksummed ? ', every sha256 matches' : ' (lengths only: no checksums in this format)'}\n`);
  }
  return 0;
}

async function importCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, IMPORT);
  const f = parsed.flags;
  if (f.help) {
    process.stdout.write(usage('store import', IMPORT_SUMMARY, IMPORT) + '\n');
    return 0;
  }
  if (parsed.positionals.length) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const activations = required<string>(parsed, 'activations');
  const labels = required<string>(parsed, 'labels');
  const out = required<string>(parsed, 'out');
  const { importStore } = await import('../../activations/index.ts');
  const r = await importStore({
    activations, labels, out,
    hooks: f.hook as string[] | undefined, seqIdColumn: f['seq-ids'] as string | undefined, features: f.features as string[] | undefined,
    aggregation: f.aggregation as Aggregation | undefined, dtype: f.dtype as StoreDtype, chunkMb: f['chunk-mb'] as number, seed: f.seed as number,
    overwrite: Boolean(f.overwrite), silent: Boolean(f.quiet), command: ['lab', 'store', 'import', ...argv].join(' '),
  });
  const m = r.manifest;
  const summary = {
    out: r.dir, already_complete: r.alreadyComplete, resumed_from_chunk: r.resumedFromChunk, rows: m.total_rows, sequences: m.total_sequences,
    chunks: m.chunks.length, level: m.dataset.level, aggregation: m.aggregation, hooks: m.hooks.map((h) => h.name), features: m.dataset.features, seconds: +r.seconds.toFixed(3),
  };
  if (f.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else if (r.alreadyComplete) process.stdout.write(`${out}: already complete (${m.total_rows} rows); nothing to do\n`);
  else {
    process.stdout.write(`${out}: ${m.total_rows} rows (${m.dataset.level} level${m.dataset.level === 'sequence' ? `, aggregation ${m.aggregation}` : ''}) x ${m.hooks.length} hooks, ` +
      `${m.total_sequences} sequences, ${m.dataset.features.length} features, ${m.chunks.length} chunks${r.resumedFromChunk ? `, resumed after chunk ${r.resumedFromChunk - 1}` : ''}\n`);
  }
  return 0;
}

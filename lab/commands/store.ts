/** `lab store verify DIR`: reads every chunk file of an activation store, checking lengths and checksums. */
import { parseFlags, usage, type FlagSpecs } from './args.ts';
import { UsageError } from '../core/index.ts';

const SPECS: FlagSpecs = {
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  'allow-partial': { type: 'boolean', help: 'verify the whole chunks of a harvest that is still running or was killed' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUMMARY = 'lab store verify DIR: checks store.json against its chunks and every chunk file against its sha256 (exit 1 at the first bad one).';

export async function storeCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(usage('store verify', SUMMARY, SPECS) + '\n');
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'verify') throw new UsageError(`unknown subcommand 'store ${sub}' (verify)`);
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

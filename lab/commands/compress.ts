/**
 * `lab compress --model DIR|default IN -o OUT`, `lab decompress --model DIR|default IN -o OUT` and
 * `lab compress --report [--model ..] [--checkpoints DIR] [FILES...]`.
 */
import { readFileSync } from 'node:fs';
import { parseFlags, usage, type FlagSpecs, type Parsed } from './args.ts';
import { InputError, UsageError } from '../core/index.ts';
import { Progress } from '../core/index.ts';
import { writeFileAtomic } from '../core/index.ts';
import type { CodecOptions, CodecStats } from '../compress/index.ts';

const CODEC_SPECS: FlagSpecs = {
  model: { type: 'string', help: "model folder (Hugging Face layout) or 'default' for lab/lm/default-model" },
  out: { type: 'string', help: 'output file (also -o)' },
  backend: { type: 'string', help: 'force a tfjs backend; decompression must use the one compression used' },
  json: { type: 'boolean', help: 'print the figures as JSON on stdout' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
  help: { type: 'boolean', help: 'show this help' },
};

const COMPRESS_SPECS: FlagSpecs = {
  ...CODEC_SPECS,
  'total-bits': { type: 'int', help: 'quantisation total 2^bits', default: 24, min: 8, max: 24 },
  context: { type: 'int', help: "window length in tokens (default: the model's context length)", min: 4 },
  overlap: { type: 'int', help: 'tokens carried into the next window (default: half the window)', min: 1 },
  report: { type: 'boolean', help: 'measure instead: lab compress --report [--model ..] [FILES...] (see --report --help)' },
};

const COMPRESS_SUMMARY =
  'Compresses a file losslessly with a language model and a range coder: each token costs about -log2 p(token).';
const DECOMPRESS_SUMMARY = 'Restores a file written by lab compress; needs the same model, backend and tfjs version.';

/** `-o OUT` is accepted as `--out OUT`. */
function normaliseArgv(argv: string[]): string[] {
  return argv.map((a) => (a === '-o' ? '--out' : a));
}

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
}

function ioArgs(parsed: Parsed, command: string): { input: string; out: string } {
  if (parsed.positionals.length !== 1) {
    throw new UsageError(`lab ${command} takes exactly one input file, got ${parsed.positionals.length}: ${parsed.positionals.join(' ') || '(none)'}`);
  }
  const out = parsed.flags.out as string | undefined;
  if (!out) throw new UsageError('-o OUT (or --out OUT) is required', 'out');
  return { input: parsed.positionals[0]!, out };
}

function progress(label: string, quiet: boolean): { onProgress: CodecOptions['onProgress']; done: () => void } {
  let bar: Progress | undefined;
  return {
    onProgress: (done, total) => {
      bar ??= new Progress({ label, total, unit: 'items', silent: quiet });
      bar.update(done);
    },
    done: () => bar?.finish(),
  };
}

function summary(kind: string, stats: CodecStats): string {
  const bpb = (bytes: number) => (stats.originalBytes > 0 ? ((8 * bytes) / stats.originalBytes).toFixed(3) : 'n/a');
  return (
    `${kind}: ${stats.originalBytes} bytes <-> ${stats.fileBytes} bytes (${bpb(stats.fileBytes)} bits/byte, payload ${bpb(stats.payloadBytes)}); ` +
    `${stats.tokens} tokens, ${stats.escapes} escapes (${stats.rawBytes} raw bytes); ` +
    `${(stats.tokens / Math.max(stats.seconds, 1e-9)).toFixed(1)} tokens/s`
  );
}

export async function compressCommand(argv: string[]): Promise<number> {
  argv = normaliseArgv(argv);
  if (argv.includes('--report')) {
    const { reportCommand } = await import('./compress-report.ts');
    return reportCommand(argv.filter((a) => a !== '--report'));
  }
  const parsed = parseFlags(argv, COMPRESS_SPECS);
  if (parsed.flags.help) {
    process.stdout.write(usage('compress', `${COMPRESS_SUMMARY}\n  lab compress --model DIR|default IN -o OUT`, COMPRESS_SPECS) + '\n');
    return 0;
  }
  const { input, out } = ioArgs(parsed, 'compress');
  const { compress, resolveModelDir } = await import('../compress/index.ts');
  const { loadModel } = await import('../../activations/index.ts');
  const { initBackend } = await import('../core/backend.ts');
  const dir = resolveModelDir(parsed.flags.model as string | undefined);
  const data = readInput(input);
  await initBackend(parsed.flags.backend as string | undefined);
  const model = await loadModel(dir);
  try {
    const p = progress('compress', Boolean(parsed.flags.quiet));
    const { file, stats } = compress(model, data, {
      totalBits: parsed.flags['total-bits'] as number,
      context: parsed.flags.context as number | undefined,
      overlap: parsed.flags.overlap as number | undefined,
      onProgress: p.onProgress,
    });
    p.done();
    writeFileAtomic(out, file);
    process.stdout.write((parsed.flags.json ? JSON.stringify({ input, out, model: dir, ...stats }) : summary('compressed', stats)) + '\n');
  } finally {
    model.dispose();
  }
  return 0;
}

export async function decompressCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(normaliseArgv(argv), CODEC_SPECS);
  if (parsed.flags.help) {
    process.stdout.write(usage('decompress', `${DECOMPRESS_SUMMARY}\n  lab decompress --model DIR|default IN -o OUT`, CODEC_SPECS) + '\n');
    return 0;
  }
  const { input, out } = ioArgs(parsed, 'decompress');
  const { decompress, readContainer, resolveModelDir } = await import('../compress/index.ts');
  const { loadModel } = await import('../../activations/index.ts');
  const { initBackend } = await import('../core/backend.ts');
  const dir = resolveModelDir(parsed.flags.model as string | undefined);
  const file = readInput(input);
  readContainer(file, input); // a file that is not ours, truncated or corrupted fails before the model loads
  await initBackend(parsed.flags.backend as string | undefined);
  const model = await loadModel(dir);
  try {
    const p = progress('decompress', Boolean(parsed.flags.quiet));
    const { data, stats } = decompress(model, file, { name: input, onProgress: p.onProgress });
    p.done();
    writeFileAtomic(out, data);
    process.stdout.write((parsed.flags.json ? JSON.stringify({ input, out, model: dir, ...stats }) : summary('decompressed', stats)) + '\n');
  } finally {
    model.dispose();
  }
  return 0;
}

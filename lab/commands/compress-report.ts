/**
 * `lab compress --report [--model DIR|default] [--checkpoints DIR] [FILES...]`: a table on stdout and a
 * run directory (kind 'compress-report') with report.csv and, over checkpoints, checkpoints.csv.
 */
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseFlags, usage, type FlagSpecs } from './args.ts';
import { InputError, UsageError } from '../core/index.ts';
import { Progress } from '../core/index.ts';
import { RunDir } from '../core/index.ts';
import type { HeldOut, ReportInput, ReportRow } from '../compress/index.ts';

const SPECS: FlagSpecs = {
  model: { type: 'string', help: "model folder or 'default' (lab/lm/default-model)", default: 'default' },
  checkpoints: { type: 'string', help: 'a training run folder: one row per DIR/checkpoints/step-N (and DIR itself)' },
  'max-bytes': { type: 'int', help: 'cap on the bytes of each input (its first N bytes)', default: 12000, min: 1 },
  'checkpoint-bytes': { type: 'int', help: 'cap on the held-out bytes coded per checkpoint', default: 6000, min: 1 },
  'no-brown': { type: 'boolean', help: 'skip the held-out Brown text (only the FILES given)' },
  'no-decompress': { type: 'boolean', help: 'skip the decompression check and its speed' },
  context: { type: 'int', help: "window length (default: the model's)", min: 4 },
  overlap: { type: 'int', help: 'tokens carried into the next window (default: half)', min: 1 },
  'total-bits': { type: 'int', help: 'quantisation total 2^bits', default: 24, min: 8, max: 24 },
  out: { type: 'string', help: 'run directory (default runs/compress-report-<time>)' },
  seed: { type: 'int', help: 'recorded in the manifest (nothing here is random)', default: 0 },
  backend: { type: 'string', help: 'force a tfjs backend' },
  json: { type: 'boolean', help: 'print the rows as JSON' },
  quiet: { type: 'boolean', help: 'no progress on stderr' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUMMARY =
  'Measures LM compression: coder bits/byte vs the model cross-entropy, gzip -9, xz -9 and zstd -19, with speeds;\n' +
  'with --checkpoints, held-out loss vs compressed bits/byte per training checkpoint.';

export async function reportCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, SPECS);
  const f = parsed.flags;
  if (f.help) {
    process.stdout.write(usage('compress --report', SUMMARY, SPECS) + '\n');
    return 0;
  }
  const { initBackend } = await import('../core/backend.ts');
  const { loadModel } = await import('../../activations/index.ts');
  const { listCheckpoints } = await import('../lm/index.ts');
  const { BASELINES, defaultEngine, heldOutBrown, measure, resolveModelDir, toCsv, toTable, toolSize } = await import('../compress/index.ts');
  const backend = await initBackend(f.backend as string | undefined);
  const modelDir = resolveModelDir(f.model as string);
  const maxBytes = f['max-bytes'] as number;
  const inputs: ReportInput[] = [];
  const notes: string[] = [];
  let heldOut: HeldOut | undefined;
  if (!f['no-brown']) {
    heldOut = heldOutBrown(modelDir, maxBytes);
    notes.push(`held-out Brown: ${heldOut.files.length} files from ${heldOut.source}`);
    inputs.push({ name: 'brown-held-out', data: new TextEncoder().encode(heldOut.text) });
  }
  for (const p of parsed.positionals) {
    let data: Uint8Array;
    try {
      data = new Uint8Array(readFileSync(p));
    } catch (err) {
      throw new InputError(`cannot read ${p}: ${(err as Error).message}`, p);
    }
    inputs.push({ name: basename(p), data: data.subarray(0, maxBytes) });
  }
  if (inputs.length === 0 && !f.checkpoints) throw new UsageError('nothing to measure: give FILES, or drop --no-brown');
  for (const t of BASELINES) {
    const r = toolSize(t, new Uint8Array([1, 2, 3]));
    if (r.note) notes.push(r.note);
  }
  const outDir = resolve((f.out as string | undefined) ?? join('runs', `compress-report-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  const run = RunDir.begin(outDir, {
    kind: 'compress-report',
    seed: f.seed as number,
    backend: backend.active,
    command: `lab compress --report ${argv.join(' ')}`,
    config: {
      model: modelDir, inputs: inputs.map((i) => ({ name: i.name, bytes: i.data.length })), max_bytes: maxBytes,
      checkpoints: f.checkpoints ?? null, checkpoint_bytes: f['checkpoint-bytes'], context: f.context ?? null,
      overlap: f.overlap ?? null, total_bits: f['total-bits'], held_out_files: heldOut?.files ?? null, held_out_source: heldOut?.source ?? null,
    },
  });
  const quiet = Boolean(f.quiet);
  const codec = { totalBits: f['total-bits'] as number, context: f.context as number | undefined, overlap: f.overlap as number | undefined, engine: defaultEngine() };

  const rows: ReportRow[] = [];
  if (inputs.length > 0) {
    const t0 = performance.now();
    const model = await loadModel(modelDir);
    try {
      for (const input of inputs) {
        let bar: Progress | undefined;
        rows.push(
          measure(model, input, {
            ...codec, decompress: !f['no-decompress'], modelName: f.model as string,
            onProgress: (d, t) => {
              bar ??= new Progress({ label: `report ${input.name}`, total: t, unit: 'items', silent: quiet });
              bar.update(d);
            },
          }),
        );
        bar?.finish();
      }
    } finally {
      model.dispose();
    }
    run.timing('report_s', (performance.now() - t0) / 1000);
    run.write('report.csv', toCsv(rows));
  }

  const ckRows: Record<string, unknown>[] = [];
  if (f.checkpoints) {
    const t0 = performance.now();
    const cks = listCheckpoints(resolve(f.checkpoints as string));
    const held = heldOutBrown(resolve(f.checkpoints as string), f['checkpoint-bytes'] as number);
    const data = new TextEncoder().encode(held.text);
    const bar = new Progress({ label: 'checkpoints', total: cks.length, unit: 'ckpt', silent: quiet });
    for (const ck of cks) {
      const model = await loadModel(ck.dir);
      try {
        const r = measure(model, { name: 'brown-held-out', data }, { ...codec, decompress: false, modelName: ck.label });
        ckRows.push({
          checkpoint: ck.label, step: ck.step, bytes: r.bytes, tokens: r.tokens,
          held_out_loss_nats_per_token: r.held_out_loss_nats_per_token, model_bits_per_byte: r.model_bits_per_byte,
          coder_bits_per_byte: r.coder_bits_per_byte, coder_over_model_pct: r.coder_over_model_pct,
          gzip_bits_per_byte: r.gzip_bits_per_byte, xz_bits_per_byte: r.xz_bits_per_byte, zstd_bits_per_byte: r.zstd_bits_per_byte,
          recorded_held_out_subset_loss: ck.recordedLoss,
        });
      } finally {
        model.dispose();
      }
      bar.tick(1, ck.label);
    }
    bar.finish();
    run.timing('checkpoints_s', (performance.now() - t0) / 1000);
    run.write('checkpoints.csv', toCsv(ckRows));
  }
  run.finish({ notes });

  if (f.json) {
    process.stdout.write(JSON.stringify({ run_dir: outDir, rows, checkpoints: ckRows, notes }, null, 2) + '\n');
    return 0;
  }
  const lines: string[] = [];
  if (rows.length > 0) {
    lines.push(
      toTable(rows, [
        ['input', 'input'], ['bytes', 'bytes'], ['tokens', 'tokens'], ['model_bits_per_byte', 'model b/B'],
        ['coder_bits_per_byte', 'coder b/B'], ['coder_over_model_pct', 'coder-model %'], ['file_bits_per_byte', 'file b/B'],
        ['gzip_bits_per_byte', 'gzip -9'], ['xz_bits_per_byte', 'xz -9'], ['zstd_bits_per_byte', 'zstd -19'],
        ['compress_tokens_per_s', 'comp tok/s'], ['decompress_tokens_per_s', 'decomp tok/s'], ['forward_tokens_per_s', 'fwd tok/s'],
      ]),
    );
  }
  if (ckRows.length > 0) {
    lines.push(
      '',
      toTable(ckRows as Record<string, number | string>[], [
        ['checkpoint', 'checkpoint'], ['step', 'step'], ['held_out_loss_nats_per_token', 'loss nats/tok'],
        ['recorded_held_out_subset_loss', 'trainer loss'],
        ['model_bits_per_byte', 'model b/B'], ['coder_bits_per_byte', 'coder b/B'], ['gzip_bits_per_byte', 'gzip -9'],
      ]),
    );
  }
  lines.push('', ...notes, `run directory: ${outDir}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

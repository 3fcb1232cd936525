/**
 * Measurements for `lab compress --report`: the coder's bits per byte beside the model's own
 * cross-entropy and beside gzip -9, xz -9 and zstd -19 on the same bytes; tokens per second for
 * compress, decompress and the plain forward pass; and, over training checkpoints, held-out loss
 * against compressed size.
 */
import { spawnSync } from 'node:child_process';
import { tf } from '../core/backend.ts';
import type { LanguageModel } from '../../activations/index.ts';
import { compress, decompress, type CodecOptions } from './codec.ts';
import { toItems } from './segment.ts';

export interface ReportInput {
  name: string;
  data: Uint8Array;
}

export interface ReportRow {
  model: string;
  input: string;
  bytes: number;
  tokens: number;
  escapes: number;
  /** Range-coded payload in bits per original byte: what the coder achieves. */
  coder_bits_per_byte: number;
  /** The whole file, header included. */
  file_bits_per_byte: number;
  /** Sum of -log2 p(token) under the model's float distribution, per byte. */
  model_bits_per_byte: number;
  /** (coder - model) / model, in percent. */
  coder_over_model_pct: number;
  held_out_loss_nats_per_token: number;
  gzip_bits_per_byte: number;
  xz_bits_per_byte: number;
  zstd_bits_per_byte: number;
  compress_tokens_per_s: number;
  decompress_tokens_per_s: number;
  forward_tokens_per_s: number;
  round_trip: boolean | null;
}

export const BASELINES = [
  { name: 'gzip', args: ['-9', '-c'], pkg: 'gzip' },
  { name: 'xz', args: ['-9', '-c'], pkg: 'xz-utils' },
  { name: 'zstd', args: ['-19', '-c', '-q'], pkg: 'zstd' },
] as const;

/** Compressed size in bytes from a system tool, or NaN with the reason when the tool is missing. */
export function toolSize(tool: (typeof BASELINES)[number], data: Uint8Array): { bytes: number; note?: string } {
  const r = spawnSync(tool.name, tool.args as unknown as string[], { input: data, maxBuffer: 1 << 30 });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status}: ${r.stderr.toString().trim()}`;
    return { bytes: NaN, note: `${tool.name} failed (${why}); apt-get install ${tool.pkg}` };
  }
  return { bytes: r.stdout.length };
}

/**
 * Tokens per second of the plain forward pass over the same tokens: full windows of `context`
 * positions, no cache, at most `maxTokens` tokens. The figure the coder's speed is compared with.
 */
export function forwardSpeed(model: LanguageModel, ids: number[], context: number, maxTokens = 4096): number {
  const n = Math.min(ids.length, maxTokens);
  if (n === 0) return NaN;
  // One untimed call so the first-use compilation of kernels does not count.
  const first = tf.tensor2d(ids.slice(0, Math.min(n, context)), [1, Math.min(n, context)], 'int32');
  const warm = model.forward(first);
  warm.logits.dataSync();
  tf.dispose([first, warm.logits, ...warm.cache.values()]);
  const t0 = performance.now();
  for (let i = 0; i < n; i += context) {
    const w = ids.slice(i, Math.min(n, i + context));
    const input = tf.tensor2d(w, [1, w.length], 'int32');
    const { logits, cache } = model.forward(input);
    logits.dataSync();
    tf.dispose([input, logits, ...cache.values()]);
  }
  return n / ((performance.now() - t0) / 1000);
}

export interface MeasureOptions extends CodecOptions {
  /** Also decompress, check the round trip and time it. */
  decompress?: boolean;
  modelName?: string;
}

export function measure(model: LanguageModel, input: ReportInput, opts: MeasureOptions = {}): ReportRow {
  const n = input.data.length;
  const c = compress(model, input.data, opts);
  let decompressRate = NaN;
  let roundTrip: boolean | null = null;
  if (opts.decompress) {
    const d = decompress(model, c.file, { engine: opts.engine, name: input.name, onProgress: opts.onProgress });
    roundTrip = Buffer.from(d.data).equals(Buffer.from(input.data));
    decompressRate = d.stats.tokens / d.stats.seconds;
  }
  const ids = toItems(model.tokenizer, input.data).flatMap((it) => (it.kind === 'token' ? [it.id] : []));
  const sizes = Object.fromEntries(BASELINES.map((t) => [t.name, toolSize(t, input.data).bytes])) as Record<string, number>;
  const bpb = (bits: number) => (n > 0 ? bits / n : NaN);
  const s = c.stats;
  return {
    model: opts.modelName ?? model.source.dir,
    input: input.name,
    bytes: n,
    tokens: s.tokens,
    escapes: s.escapes,
    coder_bits_per_byte: bpb(8 * s.payloadBytes),
    file_bits_per_byte: bpb(8 * s.fileBytes),
    model_bits_per_byte: bpb(s.modelBits),
    coder_over_model_pct: (100 * (8 * s.payloadBytes - s.modelBits)) / s.modelBits,
    held_out_loss_nats_per_token: (s.modelBits * Math.LN2) / s.tokens,
    gzip_bits_per_byte: bpb(8 * sizes.gzip!),
    xz_bits_per_byte: bpb(8 * sizes.xz!),
    zstd_bits_per_byte: bpb(8 * sizes.zstd!),
    compress_tokens_per_s: s.tokens / s.seconds,
    decompress_tokens_per_s: decompressRate,
    forward_tokens_per_s: forwardSpeed(model, ids, opts.context ?? model.config.contextLength),
    round_trip: roundTrip,
  };
}

/** Rows as CSV with a header line; numbers at full precision, NaN as an empty cell. */
export function toCsv<T extends object>(rows: T[]): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0]!) as (keyof T)[];
  const cell = (v: unknown) => {
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

/** A fixed-width text table of selected columns. */
export function toTable<T extends object>(rows: T[], cols: [keyof T & string, string][]): string {
  const fmt = (v: unknown) =>
    typeof v === 'number'
      ? Number.isNaN(v) ? '-' : Number.isInteger(v) || Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3)
      : String(v);
  const cells = rows.map((r) => cols.map(([k]) => fmt(r[k])));
  const widths = cols.map(([, h], i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padStart(widths[i]!)).join('  ');
  return [line(cols.map(([, h]) => h)), ...cells.map(line)].join('\n');
}

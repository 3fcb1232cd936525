/**
 * Lossless compression with a language model: the items of segment.ts coded by the range coder under
 * the model's quantised next-token distribution (predictor.ts). The vocabulary's frequencies sum to
 * 2^totalBits - 1 and the escape symbol takes the last unit.
 */
import { InputError, UsageError } from '../core/index.ts';
import { activeBackend, tf } from '../core/backend.ts';
import type { LanguageModel } from '../../activations/index.ts';
import { RangeDecoder, RangeEncoder, MAX_TOTAL_BITS } from './range-coder.ts';
import { Predictor } from './predictor.ts';
import { ItemSink, toItems, type Item } from './segment.ts';
import { digest8, readContainer, writeContainer, type Header } from './container.ts';

export interface CodecOptions {
  /** Quantisation total 2^totalBits (default 24). */
  totalBits?: number;
  /** Window length in positions (default: the model's context length). */
  context?: number;
  /** Tokens carried over when a window fills (default: half the window). */
  overlap?: number;
  /** Backend and tfjs version recorded in, and checked against, the header (default: the active ones). */
  engine?: string;
  /** Called every so often with (items done, items total). */
  onProgress?: (done: number, total: number) => void;
}

export interface CodecStats {
  originalBytes: number;
  fileBytes: number;
  payloadBytes: number;
  items: number;
  tokens: number;
  /** Escape items: breaks and raw runs; and the raw bytes they carry. */
  escapes: number;
  rawBytes: number;
  /** Sum of -log2 p over the coded tokens under the model's float distribution (compress only). */
  modelBits: number;
  /** The same under the quantised frequencies, escapes and raw bytes included: the ideal payload size. */
  codedBits: number;
  seconds: number;
  forwardSeconds: number;
  forwardCalls: number;
}

/**
 * The backend, the tfjs version and any kernel the lab swapped in: lab/lm's wasm-matmul.ts can replace
 * the wasm BatchMatMul with a transpose-then-plain variant, which computes the same product with other
 * rounding, so it is part of what the decoder must match.
 */
export function defaultEngine(): string {
  const backend = activeBackend();
  if (!backend) throw new Error('initBackend() must run before the codec');
  const matMul = tf.getKernel('BatchMatMul', tf.getBackend()) as unknown as Record<symbol, unknown> | undefined;
  const swapped = matMul?.[Symbol.for('neuronlab.plainTransposedMatMul')] ? ' +plain-transposed-matmul' : '';
  return `${backend} tfjs-core@${tf.version_core}${swapped}`;
}

/** What identifies the tokenizer: every id's token string, in order, and the BOS id. */
export function tokenizerDigest(model: LanguageModel): string {
  const tok = model.tokenizer;
  const parts: string[] = [`bos=${tok.bosId ?? ''}`, `n=${tok.vocabSize}`];
  for (let i = 0; i < tok.vocabSize; i++) parts.push(tok.idToToken(i) ?? '\u0000');
  return digest8(parts.join('\u0001'));
}

function settings(model: LanguageModel, opts: CodecOptions) {
  const totalBits = opts.totalBits ?? 24;
  const vocab = model.config.vocabSize;
  if (!Number.isInteger(totalBits) || totalBits > MAX_TOTAL_BITS || 2 ** totalBits < 8 * (vocab + 1)) {
    throw new UsageError(`--total-bits must be an integer with 8 * (vocab + 1) <= 2^bits <= 2^${MAX_TOTAL_BITS}; got ${totalBits} for a vocabulary of ${vocab}`, 'total-bits');
  }
  const context = opts.context ?? model.config.contextLength;
  if (!Number.isInteger(context) || context < 4 || context > model.config.contextLength) {
    throw new UsageError(`--context must be between 4 and the model's ${model.config.contextLength}; got ${context}`, 'context');
  }
  const overlap = opts.overlap ?? Math.floor(context / 2);
  if (!Number.isInteger(overlap) || overlap < 1 || overlap > context - 2) {
    throw new UsageError(`--overlap must be between 1 and context - 2 = ${context - 2}; got ${overlap}`, 'overlap');
  }
  return { totalBits, total: 2 ** totalBits, tokenTotal: 2 ** totalBits - 1, context, overlap, vocab };
}

function newStats(): CodecStats {
  return {
    originalBytes: 0, fileBytes: 0, payloadBytes: 0, items: 0, tokens: 0, escapes: 0, rawBytes: 0,
    modelBits: 0, codedBits: 0, seconds: 0, forwardSeconds: 0, forwardCalls: 0,
  };
}

function cumBefore(freqs: Int32Array, id: number): number {
  let c = 0;
  for (let i = 0; i < id; i++) c += freqs[i]!;
  return c;
}

export function compress(model: LanguageModel, data: Uint8Array, opts: CodecOptions = {}): { file: Uint8Array; stats: CodecStats } {
  const t0 = performance.now();
  const s = settings(model, opts);
  const items = data.length > 0 ? toItems(model.tokenizer, data) : [];
  const stats = newStats();
  stats.originalBytes = data.length;
  stats.items = items.length;
  const enc = new RangeEncoder();
  if (items.length > 0) {
    const pred = new Predictor(model, { context: s.context, overlap: s.overlap, tokenTotal: s.tokenTotal });
    try {
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        const freqs = pred.freqs;
        if (item.kind === 'token') {
          if (!(item.id >= 0 && item.id < s.vocab)) {
            throw new InputError(`the tokenizer produced id ${item.id}, outside the model's vocabulary of ${s.vocab}`);
          }
          const f = freqs[item.id]!;
          enc.encode(cumBefore(freqs, item.id), f, s.total);
          stats.tokens++;
          stats.codedBits += Math.log2(s.total / f);
          stats.modelBits += pred.modelBits(item.id);
          pred.push(item.id);
        } else {
          enc.encode(s.tokenTotal, 1, s.total);
          const len = item.kind === 'raw' ? item.bytes.length : 0;
          enc.encodeBits(len, 8);
          if (item.kind === 'raw') for (const b of item.bytes) enc.encodeBits(b, 8);
          stats.escapes++;
          stats.rawBytes += len;
          stats.codedBits += s.totalBits + 8 + 8 * len;
        }
        if (opts.onProgress && (i & 63) === 0) opts.onProgress(i, items.length);
      }
      stats.forwardCalls = pred.forwardCalls;
      stats.forwardSeconds = pred.forwardSeconds;
    } finally {
      pred.dispose();
    }
  }
  const payload = enc.finish();
  const file = writeContainer(
    {
      totalBits: s.totalBits,
      context: s.context,
      overlap: s.overlap,
      modelDigest: digest8(model.source.checksum),
      tokenizerDigest: tokenizerDigest(model),
      engine: opts.engine ?? defaultEngine(),
      originalLength: data.length,
      itemCount: items.length,
      originalDigest: digest8(data),
    },
    payload,
  );
  stats.payloadBytes = payload.length;
  stats.fileBytes = file.length;
  stats.seconds = (performance.now() - t0) / 1000;
  return { file, stats };
}

/** Refuses, with the reason, a file this model and engine cannot reproduce the probabilities of. */
export function checkCompatible(header: Header, model: LanguageModel, engine: string, name: string): void {
  const modelDigest = digest8(model.source.checksum);
  if (header.modelDigest !== modelDigest) {
    throw new InputError(
      `${name} was compressed with another model (digest ${header.modelDigest}); ${model.source.dir} has digest ${modelDigest}. ` +
        'Decompress with the same --model the file was compressed with.',
      name,
    );
  }
  const tokDigest = tokenizerDigest(model);
  if (header.tokenizerDigest !== tokDigest) {
    throw new InputError(`${name} was compressed with another tokenizer (digest ${header.tokenizerDigest}; this model's is ${tokDigest})`, name);
  }
  if (header.engine !== engine) {
    const backend = header.engine.split(' ')[0];
    throw new InputError(
      `${name} was compressed on '${header.engine}' but this run uses '${engine}': another backend or tfjs version ` +
        `computes slightly different logits, so decoding would not reproduce the coder's probabilities. Rerun with --backend ${backend} ` +
        'and the tfjs version named there.',
      name,
    );
  }
}

export function decompress(model: LanguageModel, file: Uint8Array, opts: CodecOptions & { name?: string } = {}): { data: Uint8Array; stats: CodecStats } {
  const t0 = performance.now();
  const name = opts.name ?? 'input';
  const { header, payload } = readContainer(file, name);
  checkCompatible(header, model, opts.engine ?? defaultEngine(), name);
  let s: ReturnType<typeof settings>;
  try {
    s = settings(model, { totalBits: header.totalBits, context: header.context, overlap: header.overlap });
  } catch (err) {
    // The values come from the file's header, not from flags: name the file, not a flag decompress lacks.
    if (!(err instanceof UsageError)) throw err;
    throw new InputError(`${name}: its header's ${err.message.replace(/^--([a-z-]+)/, '$1')}: the file is corrupt or was written for another model`, name);
  }
  const stats = newStats();
  stats.items = header.itemCount;
  const dec = new RangeDecoder(payload, name);
  const sink = new ItemSink(model.tokenizer);
  if (header.itemCount > 0) {
    const pred = new Predictor(model, { context: s.context, overlap: s.overlap, tokenTotal: s.tokenTotal });
    try {
      for (let i = 0; i < header.itemCount; i++) {
        const freqs = pred.freqs;
        const v = dec.target(s.total);
        let item: Item;
        if (v >= s.tokenTotal) {
          dec.consume(s.tokenTotal, 1);
          const len = dec.decodeBits(8);
          if (len === 0) item = { kind: 'break' };
          else {
            const bytes = new Uint8Array(len);
            for (let j = 0; j < len; j++) bytes[j] = dec.decodeBits(8);
            item = { kind: 'raw', bytes };
            stats.rawBytes += len;
          }
          stats.escapes++;
        } else {
          let id = 0;
          let cum = 0;
          while (cum + freqs[id]! <= v) cum += freqs[id++]!;
          dec.consume(cum, freqs[id]!);
          item = { kind: 'token', id };
          stats.tokens++;
          pred.push(id);
        }
        sink.push(item);
        if (opts.onProgress && (i & 63) === 0) opts.onProgress(i, header.itemCount);
      }
      stats.forwardCalls = pred.forwardCalls;
      stats.forwardSeconds = pred.forwardSeconds;
    } finally {
      pred.dispose();
    }
  }
  if (dec.position !== payload.length) {
    throw new InputError(`${name} is corrupted: the decoder stopped at byte ${dec.position} of ${payload.length}`, name);
  }
  const data = sink.finish();
  if (data.length !== header.originalLength || digest8(data) !== header.originalDigest) {
    throw new InputError(
      `${name} did not decode to the original (${data.length} bytes, digest ${digest8(data)}; expected ${header.originalLength} bytes, ` +
        `digest ${header.originalDigest}): the file is corrupted or the model computes differently here than where it was compressed`,
      name,
    );
  }
  stats.originalBytes = data.length;
  stats.payloadBytes = payload.length;
  stats.fileBytes = file.length;
  stats.seconds = (performance.now() - t0) / 1000;
  return { data, stats };
}

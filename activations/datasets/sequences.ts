/**
 * Packing sentences into labelled model sequences. Every dataset here is a list of documents (Brown
 * files, nlp-corpus files) of sentences; a sequence is a run of whole sentences from one document
 * that fits the context, so a sequence never mixes documents (genres) and its id says where it came from.
 */
import { UsageError } from '../../lab/core/index.ts';
import { Rng } from '../../lab/core/index.ts';
import type { FeatureDataset, LabelledSequence, Tokenizer } from '../types.ts';
import { encodeAligned, type EncodedText } from './align.ts';

export interface SourceSentence {
  text: string;
  /** Word segmentation and tags when the source has them (Brown). Spans index `text`. */
  words?: { start: Int32Array; end: Int32Array; tags: string[] };
}

export interface SourceDoc {
  /** Canonical index of the document in its corpus (independent of the seed). */
  index: number;
  name: string;
  sentences(): SourceSentence[];
}

/**
 * Labels for one encoded sentence. `text` is what was encoded (the sentence with one leading space,
 * so `offset` = 1 maps sentence.words spans into it).
 */
export type TokenLabeller = (sentence: SourceSentence, enc: EncodedText, text: string, offset: number) => Record<string, Uint8Array>;
export type SequenceLabeller = (doc: SourceDoc) => Record<string, 0 | 1>;

export interface SequenceOptions {
  /** Model context length: the most tokens in a sequence, BOS included. */
  context: number;
  /** Fixes the order of documents. */
  seed: number;
  /** Prepend the tokenizer's BOS id (when it has one) to every sequence; its labels are all 0. */
  bos?: boolean;
}

/** Sequence ids are doc_index * SEQ_STRIDE + chunk index within the doc, stable across seeds. */
export const SEQ_STRIDE = 100_000;

/** A dataset built by the packer; `bos` tells the harvester that position 0 is a BOS token to skip. */
export interface TextDataset extends FeatureDataset {
  bos: boolean;
  /** Everything that fixes the dataset's content, for the store's config hash. */
  config: Record<string, unknown>;
}

export interface PackSpec {
  name: string;
  level: 'token' | 'sequence';
  features: string[];
  docs: () => SourceDoc[];
  tokenLabels?: TokenLabeller;
  seqLabels?: SequenceLabeller;
  config: Record<string, unknown>;
  /** Sequence ids are doc index * seqStride + chunk (default SEQ_STRIDE; a user file with many records uses less, to fit int32). */
  seqStride?: number;
}

export function packedDataset(tok: Tokenizer, spec: PackSpec, opts: SequenceOptions): TextDataset {
  const bos = (opts.bos ?? true) && tok.bosId !== undefined;
  if (!Number.isInteger(opts.context) || opts.context < (bos ? 2 : 1)) {
    throw new UsageError(`--context must be a whole number >= ${bos ? 2 : 1}, got ${opts.context}`, 'context');
  }
  return {
    name: spec.name,
    level: spec.level,
    features: spec.features,
    bos,
    config: { ...spec.config, name: spec.name, context: opts.context, seed: opts.seed, bos },
    sequences: () => pack(tok, spec, opts.context, opts.seed, bos),
  };
}

function* pack(tok: Tokenizer, spec: PackSpec, context: number, seed: number, bos: boolean): Generator<LabelledSequence> {
  const docs = spec.docs();
  const order = new Rng(seed).shuffle(docs.map((_, i) => i));
  const capacity = context - (bos ? 1 : 0);
  const feats = spec.tokenLabels ? spec.features : [];
  const stride = spec.seqStride ?? SEQ_STRIDE;
  for (const di of order) {
    const doc = docs[di]!;
    const seqLabels = spec.seqLabels?.(doc);
    let chunk = 0;
    let ids: number[] = [];
    let labels: number[][] = feats.map(() => []);
    const flush = function* (): Generator<LabelledSequence> {
      if (ids.length === 0) return;
      if (chunk >= stride) throw new UsageError(`document ${doc.name} makes more than ${stride} sequences: raise --context`, 'context');
      const lead = bos ? 1 : 0;
      const seq: LabelledSequence = { seqId: doc.index * stride + chunk, ids: bos ? [tok.bosId!, ...ids] : ids };
      if (feats.length > 0) {
        seq.tokenLabels = {};
        feats.forEach((f, j) => {
          const a = new Uint8Array(ids.length + lead);
          a.set(labels[j]!, lead);
          seq.tokenLabels![f] = a;
        });
      }
      if (seqLabels) seq.seqLabels = seqLabels;
      chunk++;
      ids = [];
      labels = feats.map(() => []);
      yield seq;
    };
    for (const sentence of doc.sentences()) {
      if (!sentence.text.trim()) continue;
      const text = ' ' + sentence.text;
      const enc = encodeAligned(tok, text);
      const lab = spec.tokenLabels ? spec.tokenLabels(sentence, enc, text, 1) : {};
      const n = enc.ids.length;
      if (ids.length + n > capacity) yield* flush();
      // A sentence longer than the context is cut at token boundaries into full sequences.
      for (let at = 0; at < n; ) {
        const take = Math.min(capacity - ids.length, n - at);
        for (let i = at; i < at + take; i++) ids.push(enc.ids[i]!);
        feats.forEach((f, j) => {
          const src = lab[f]!;
          for (let i = at; i < at + take; i++) labels[j]!.push(src[i]!);
        });
        at += take;
        if (at < n) yield* flush();
      }
    }
    yield* flush();
  }
}

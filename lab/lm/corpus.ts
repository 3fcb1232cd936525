/**
 * The Brown corpus as language-model data: the seeded held-out split of documents, the cut GPT-2
 * tokenizer built from the training documents, and every document encoded through that tokenizer.json
 * by @huggingface/tokenizers (the library the checkpoint's users load it with).
 */
import { tokenizerFromJson } from '../../activations/index.ts';
import type { Tokenizer } from '../../activations/index.ts';
import { readBrown, type BrownDocument } from '../../activations/index.ts';
import { cutGpt2Tokenizer } from './bpe-cut.ts';
import { splitDocuments } from './split.ts';

export const HELD_OUT_FRACTION = 0.05;

export interface LmCorpus {
  train: BrownDocument[];
  heldOut: BrownDocument[];
  tokenizerJson: Record<string, unknown>;
  tokenizer: Tokenizer;
  vocabSize: number;
  eotId: number;
  /** One stream per document: <|endoftext|> then the document's ids (lab/lm/ngram.ts explains why). */
  trainStreams: number[][];
  heldOutStreams: number[][];
  /** UTF-8 bytes of the held-out documents' text, the denominator of bits per byte. */
  heldOutBytes: number;
}

export interface CorpusOptions {
  seed: number;
  /** Keep only GPT-2 tokens seen at least this often in training (1: all, GPT-2's exact segmentation). */
  minCount?: number;
  /** For tests: use only these documents instead of the whole corpus. */
  docs?: BrownDocument[];
  onStage?: (stage: string) => void;
}

export function encodeStreams(tokenizer: Tokenizer, docs: readonly BrownDocument[], eotId: number): number[][] {
  return docs.map((d) => [eotId, ...tokenizer.encode(d.text)]);
}

export function buildBrownCorpus(opts: CorpusOptions): LmCorpus {
  const docs = opts.docs ?? readBrown();
  const { train, heldOut } = splitDocuments(docs, HELD_OUT_FRACTION, opts.seed);
  opts.onStage?.(`cutting GPT-2's BPE to the ${train.length} training documents`);
  const cut = cutGpt2Tokenizer(
    train.map((d) => d.text),
    opts.minCount ?? 1,
  );
  const tokenizer = tokenizerFromJson(cut.json);
  opts.onStage?.(`encoding ${docs.length} documents (vocabulary ${cut.vocabSize})`);
  const enc = new TextEncoder();
  return {
    train,
    heldOut,
    tokenizerJson: cut.json,
    tokenizer,
    vocabSize: cut.vocabSize,
    eotId: cut.eotId,
    trainStreams: encodeStreams(tokenizer, train, cut.eotId),
    heldOutStreams: encodeStreams(tokenizer, heldOut, cut.eotId),
    heldOutBytes: heldOut.reduce((s, d) => s + enc.encode(d.text).length, 0),
  };
}

/**
 * The Brown corpus as language-model data: the seeded held-out split of documents, the cut GPT-2
 * tokenizer built from the training documents, and every document encoded through that tokenizer.json
 * by @huggingface/tokenizers (the library the checkpoint's users load it with).
 */
import { tokenizerFromJson } from '../../activations/index.ts';
import type { Tokenizer } from '../../activations/index.ts';
import { readBrown, type BrownDocument } from '../../activations/index.ts';
import { cutGpt2Tokenizer, type CutTokenizer } from './bpe-cut.ts';
import { splitDocuments } from './split.ts';
import { biographies, kbQueries, type KbQuery, type KnowledgeBase } from './facts.ts';

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
  opts.onStage?.(`encoding ${docs.length} documents (vocabulary ${cut.vocabSize})`);
  return encodedCorpus(train, heldOut, cut);
}

/** The corpus of documents already split, encoded through the cut tokenizer (Brown and facts alike). */
function encodedCorpus(train: BrownDocument[], heldOut: BrownDocument[], cut: CutTokenizer): LmCorpus {
  const tokenizer = tokenizerFromJson(cut.json);
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

/** Text of one held-out query with its answer, as a held-out stream: the prompt, a space, the attribute. */
function answeredQuery(q: { prompt: string; attribute: string }): string {
  return `${q.prompt} ${q.attribute}.`;
}

/**
 * The facts corpus (`lab lm train --corpus facts --kb kb.jsonl`): `copies` seeded biographies per
 * subject of the knowledge base for training, GPT-2's BPE cut to them, and the held-out query templates
 * with their answers as the held-out text (loss on it measures recall through templates never trained on).
 */
export function buildFactsCorpus(kb: KnowledgeBase, opts: { seed: number; copies: number; minCount?: number }): LmCorpus & { queries: KbQuery[] } {
  const bios = biographies(kb, opts.copies, opts.seed);
  const queries = kbQueries(kb);
  const cut = cutGpt2Tokenizer(bios, opts.minCount ?? 1);
  const train = bios.map((text, i) => ({ id: `bio-${i}`, genre: 'facts', text }));
  const heldOut = queries.map((q, i) => ({ id: `query-${i}`, genre: 'facts', text: answeredQuery(q) }));
  return { ...encodedCorpus(train, heldOut, cut), queries };
}

/**
 * Brown mixed with biographies (`lab lm train --corpus brown+facts --kb kb.jsonl`): the Brown training
 * documents plus `copies` biographies per subject for training, GPT-2's BPE cut to both, and the Brown
 * held-out documents as the held-out text, so the model's bits per byte stay comparable with a Brown-only
 * model; recall is measured separately on the held-out query templates (`queries`).
 */
export function buildBrownFactsCorpus(kb: KnowledgeBase, opts: CorpusOptions & { copies: number }): LmCorpus & { queries: KbQuery[] } {
  const docs = opts.docs ?? readBrown();
  const { train, heldOut } = splitDocuments(docs, HELD_OUT_FRACTION, opts.seed);
  const bios = biographies(kb, opts.copies, opts.seed).map((text, i) => ({ id: `bio-${i}`, genre: 'facts', text }));
  opts.onStage?.(`cutting GPT-2's BPE to the ${train.length} training documents and ${bios.length} biographies`);
  const cut = cutGpt2Tokenizer([...train, ...bios].map((d) => d.text), opts.minCount ?? 1);
  opts.onStage?.(`encoding ${docs.length} documents and ${bios.length} biographies (vocabulary ${cut.vocabSize})`);
  return { ...encodedCorpus([...train, ...bios], heldOut, cut), queries: kbQueries(kb) };
}

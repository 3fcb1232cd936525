/**
 * The lab's own language model: the Brown corpus as text, GPT-2's BPE cut to it, count baselines, and a
 * GPT-2 trained with the lab's model code and saved in the Hugging Face layout.
 */
export { splitDocuments, type Split } from './split.ts';
export { BpeTracer, cutGpt2Tokenizer, preTokenize, BYTE_TO_UNICODE, END_OF_TEXT, type CutTokenizer } from './bpe-cut.ts';
export { buildBrownCorpus, buildFactsCorpus, encodeStreams, HELD_OUT_FRACTION, type LmCorpus, type CorpusOptions } from './corpus.ts';
export { UnigramModel, KneserNeyBigram, type NgramScore } from './ngram.ts';
export { trainLm, saveCheckpoint, type LmTrainConfig, type TrainResult, type TrainData, type CheckpointRecord } from './train.ts';
export { evaluateGpt2, evaluateLanguageModel, lossReport, type LossReport, type LossSum } from './evaluate.ts';
export { runLmTraining, evaluateCheckpoint, type LmRunOptions, type LmRunSummary } from './run.ts';
export { installPlainTransposedMatMul } from './wasm-matmul.ts';
export { GradWorker, type WorkerGrads } from './grad-pool.ts';
export { batchGrads } from './grads.ts';
export { DEFAULT_MODEL_DIR, FACTS_MODEL_DIR } from './default-model.ts';
export { listCheckpoints, type CheckpointEntry } from './checkpoints.ts';
export { makeKnowledgeBase, kbQueries, biographies, writeKb, readKb, RELATIONS, type KnowledgeBase, type KbQuery, type Fact, type Relation } from './facts.ts';
export { factsAccuracy, FACT_COPIES, type FactsAccuracy } from './facts-eval.ts';

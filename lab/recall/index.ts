/**
 * Study: dissecting factual recall (Geva et al. 2023) on any checkpoint the lab loads: attention
 * knockout, subject enrichment and attribute extraction, on a facts file in kb.jsonl's layout.
 */
export { runRecall, aggregate, cleanTokens, defaultWindow, defaultReprLayer, type RecallOptions, type RecallResult, type RecallTarget } from './run.ts';
export { analyseQuery, BLOCKS, POSITIONS, LENSES, TOP_M, TOP_POOL, type QueryAnalysis, type QueryInput, type AnalysisOptions } from './analysis.ts';
export { subjectSpan, tokenCharSpans, type SubjectSpan } from './spans.ts';
export { readFacts, parseFacts, type FactLine } from './facts-file.ts';
export { writePlantedModel, plantedFactsJsonl, plantedTensors, type Mechanism } from './planted.ts';

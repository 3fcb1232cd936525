/**
 * Lossless compression driven by a language model: a range coder over the model's quantised
 * next-token distribution, with a KV cache so both directions cost one forward step per token.
 */
export { RangeEncoder, RangeDecoder, findSymbol, MAX_TOTAL_BITS, FLUSH_BYTES } from './range-coder.ts';
export { quantise, detExp, modelBits, type Quantised } from './quantise.ts';
export { toItems, ItemSink, utf8CharLength, MIN_TEXT_BYTES, MAX_RAW_RUN, type Item } from './segment.ts';
export { Predictor, type PredictorOptions } from './predictor.ts';
export { writeContainer, readContainer, digest8, MAGIC, FORMAT_VERSION, type Header } from './container.ts';
export { compress, decompress, checkCompatible, defaultEngine, tokenizerDigest, type CodecOptions, type CodecStats } from './codec.ts';
export { measure, forwardSpeed, toolSize, toCsv, toTable, BASELINES, type ReportRow, type ReportInput, type MeasureOptions } from './report.ts';
export { heldOutBrown, recordedHeldOut, type HeldOut } from './brown.ts';
export { resolveModelDir } from './model-dir.ts';

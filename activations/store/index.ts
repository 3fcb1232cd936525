/** The on-disk activation store: chunked binary per hook, a store manifest, labels by sequence and position. */
export { openActivationStore, type ActivationStore, type ChunkData, type OpenOptions } from './reader.ts';
export { StoreWriter, type StoreInit, type WriterOptions } from './writer.ts';
export {
  STORE_FORMAT, STORE_FORMAT_VERSION, STORE_MANIFEST, canonicalJson, configHash,
  type Aggregation, type StoreChunk, type StoreHook, type StoreManifest,
} from './format.ts';
export { encodeChunk, decodeChunk, dequantU8, toHalf, halfToFloatTable, type StoreDtype, type Quantisation } from './quantize.ts';

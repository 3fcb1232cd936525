/**
 * The registry of model architectures. One file per architecture (gpt2.ts, neox.ts) holds everything
 * peculiar to it: which config.json keys mean what, its tensor names and shapes, how its weights map
 * onto the lab's canonical layout (transformer.ts Params: [in, out] matrices, fused q | k | v columns,
 * LayerNorm gain and bias), and whether it has learned positions or rotary ones. The forward pass is
 * shared and reads only TransformerConfig and Params. architectures.ts lists the built-in ones.
 * loadModel, random checkpoints, `lab harvest --model` help and the "unknown architecture" error read
 * this registry; a name or model_type registered twice is an error. See ADDING_AN_ARCHITECTURE.md.
 */
import { InputError } from '../../lab/core/index.ts';
import type { CheckpointReader } from './checkpoint.ts';
import { checkConfigKeys } from './config-checks.ts';
import { checkTransformerConfig, hfConfigReader, type HfConfigReader, type TransformerConfig } from './config.ts';
import type { Params } from './transformer.ts';

/** The shape fields a config.json is written from (random checkpoints, tests); an architecture ignores those it lacks. */
export interface ArchitectureShape {
  nLayers: number;
  dModel: number;
  nHeads: number;
  dMlp?: number;
  vocabSize: number;
  contextLength: number;
  layerNormEps?: number;
  /** Rotary architectures: the fraction of each head's dims rotated, and the base. */
  rotaryPct?: number;
  rotaryBase?: number;
  parallelResidual?: boolean;
  /** Grouped-query attention: key/value heads (Llama family, Gemma). */
  nKVHeads?: number;
  /** A head size other than dModel / nHeads (Gemma's head_dim). */
  dHead?: number;
  /** config.json keys written over the architecture's hfConfig (variants in tests: sliding_window, rope_scaling, ...). */
  config?: Record<string, unknown>;
}

export interface ArchitectureSpec<N extends string = string> {
  /** The lab's name (TransformerConfig.architecture), e.g. 'gpt-neox'. */
  name: N;
  /** The config.json model_type values this architecture reads, e.g. ['gpt_neox']. */
  modelTypes: readonly string[];
  /** One line for help texts and the README. */
  summary: string;
  /** Learned position embeddings (a hook_pos_embed hook point); false for rotary models. */
  positional: boolean;
  /** The tiny byte-level tokenizer random checkpoints of this architecture get. */
  tokenizer: 'gpt2' | 'neox';
  /** Tensor names that are norm gains (random checkpoints draw them around 1, not 0). */
  normGain: RegExp;
  /**
   * Every config.json field this architecture implements or refuses (beyond INERT_CONFIG_KEYS, which
   * never change the forward); any other field is an error naming it. Without a list, the fields the
   * parser read are the allow-list.
   */
  configKeys?: readonly string[];
  /** config.json -> TransformerConfig; errors name `r.path` and the key. */
  parseConfig(r: HfConfigReader): TransformerConfig;
  /** A config.json for a shape, as the HF config class's to_dict() writes it. */
  hfConfig(shape: ArchitectureShape): Record<string, unknown>;
  /** The checkpoint's tensor names (as stored) and shapes. */
  tensorShapes(cfg: TransformerConfig): Map<string, number[]>;
  /**
   * Reads the weights (shapes and dtype checked by `reader.read`) into the canonical Params, without
   * unembedT (loadModel adds it); `dispose` frees every tensor made.
   */
  loadParams(cfg: TransformerConfig, reader: CheckpointReader): { params: Params; dispose: () => void };
}

/** Identity with the name's literal type kept. */
export function defineArchitecture<N extends string>(spec: ArchitectureSpec<N>): ArchitectureSpec<N> {
  return spec;
}

const byName = new Map<string, ArchitectureSpec>();
const byModelType = new Map<string, ArchitectureSpec>();

/** Adds an architecture; a name or model_type already registered is an error. */
export function registerArchitecture(spec: ArchitectureSpec): void {
  const old = byName.get(spec.name);
  if (old) throw new Error(`architecture '${spec.name}' is already registered (${old.summary}); pick another name`);
  for (const t of spec.modelTypes) {
    const owner = byModelType.get(t);
    if (owner) throw new Error(`model_type '${t}' is already read by architecture '${owner.name}'`);
  }
  byName.set(spec.name, spec);
  for (const t of spec.modelTypes) byModelType.set(t, spec);
}

export function architectureSpecs(): ArchitectureSpec[] {
  return [...byName.values()];
}

/** Every config.json model_type the lab reads, in registration order. */
export function supportedModelTypes(): string[] {
  return [...byModelType.keys()];
}

/** The spec by the lab's name (TransformerConfig.architecture). */
export function architecture(name: string): ArchitectureSpec {
  const spec = byName.get(name);
  if (!spec) throw new InputError(`unknown architecture '${name}'; registered: ${[...byName.keys()].join(', ')}`);
  return spec;
}

/** Parses a config.json object with one architecture's parser, then the checks every architecture shares. */
export function parseWith(spec: ArchitectureSpec, hf: Record<string, unknown>, path: string): TransformerConfig {
  const r = hfConfigReader(hf, path);
  const cfg = spec.parseConfig(r);
  checkConfigKeys(hf, spec.configKeys ? new Set(spec.configKeys) : r.readKeys, path, spec.name);
  return checkTransformerConfig(cfg, path);
}

/**
 * The model_type a config.json without one means, from its `architectures` class names (configs saved
 * before transformers wrote model_type, 2019): GPT2LMHeadModel -> gpt2, GPTNeoXForCausalLM -> gpt_neox.
 * A class name minus its head suffix must equal a registered model_type without underscores.
 */
export function modelTypeFromArchitectures(classes: unknown): string | undefined {
  if (!Array.isArray(classes)) return undefined;
  for (const c of classes) {
    if (typeof c !== 'string') continue;
    const stem = c.replace(/(ForCausalLM|LMHeadModel|DoubleHeadsModel|Model)$/, '').toLowerCase();
    const hit = [...byModelType.keys()].find((t) => t.replace(/_/g, '').toLowerCase() === stem);
    if (hit) return hit;
  }
  return undefined;
}

/** Parses a config.json object, dispatching on model_type (or, when absent, its architectures); `path` names the file in errors. */
export function parseHfConfig(hf: Record<string, unknown>, path: string): TransformerConfig {
  const type = hf.model_type ?? modelTypeFromArchitectures(hf.architectures);
  const spec = typeof type === 'string' ? byModelType.get(type) : undefined;
  if (!spec) {
    const from = hf.model_type === undefined && hf.architectures !== undefined ? ` (no model_type; architectures ${JSON.stringify(hf.architectures)} names none the lab reads)` : '';
    throw new InputError(`${path}: unknown architecture model_type=${JSON.stringify(type)}${from}; supported: ${supportedModelTypes().join(', ')}`, path);
  }
  return parseWith(spec, hf, path);
}

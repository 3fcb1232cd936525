/**
 * Sanity checks of a parsed model config and of the checkpoint against it (issue 19 case 9): values
 * that parse but make no sense (a negative layer-norm epsilon gives NaN many steps later, naming
 * nothing) and tensors the config does not use (an n_layer smaller than the checkpoint's would silently
 * drop layers; missing tensors are already an error in CheckpointReader.read).
 */
import { InputError } from '../../lab/core/index.ts';

/** The fields checked (structurally, so this file need not import config.ts, which calls it). */
interface CheckedConfig {
  architecture: string;
  nLayers: number; dModel: number; dMlp: number; vocabSize: number; contextLength: number; nHeads: number; dHead: number;
  layerNormEps: number; rotaryBase: number; rotaryDims: number;
}

/** Bounds past which a config is corrupt rather than a model this lab could hold. */
const LIMITS = { nLayers: 1024, dModel: 65536, dMlp: 1 << 20, vocabSize: 1 << 24, contextLength: 1 << 20, nHeads: 4096 };

export function checkConfigValues(cfg: CheckedConfig, path: string): void {
  const bad = (what: string) => new InputError(`${path}: ${what}`, path);
  if (!(cfg.layerNormEps > 0 && cfg.layerNormEps < 1)) throw bad(`the layer-norm epsilon must be in (0, 1), got ${cfg.layerNormEps}`);
  for (const [k, max] of Object.entries(LIMITS)) {
    const v = cfg[k as keyof typeof LIMITS];
    if (v > max) throw bad(`${k} ${v} is past ${max}: not a model this lab can hold (a corrupt config.json?)`);
  }
  if (cfg.architecture === 'gpt-neox') {
    if (!(cfg.rotaryBase > 0)) throw bad(`the rotary base must be > 0, got ${cfg.rotaryBase}`);
    if (cfg.rotaryDims < 0 || cfg.rotaryDims > cfg.dHead) throw bad(`rotary dims ${cfg.rotaryDims} must be within the head size ${cfg.dHead} (rotary_pct in [0, 1])`);
  }
}

/** Buffers some checkpoints carry that no forward pass reads (causal masks, rotary tables). */
const IGNORABLE = [/\.attn\.(masked_)?bias$/, /\.attention\.(masked_)?bias$/, /rotary_emb\.inv_freq$/];

/** Refuses tensors the config did not read; `tiedHead` tolerates an lm_head that equals the embedding. */
export function checkUnusedTensors(names: string[], used: ReadonlySet<string>, path: string, tiedHead: boolean): void {
  const extra = names.filter((n) => !used.has(n) && !IGNORABLE.some((re) => re.test(n)) && !(tiedHead && n === 'lm_head.weight'));
  if (extra.length === 0) return;
  const layers = [...new Set(extra.map((n) => /(?:^|\.)(?:h|layers)\.(\d+)\./.exec(n)?.[1]).filter((x) => x !== undefined))];
  throw new InputError(
    `${path} holds ${extra.length} tensor(s) config.json does not use (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', ...' : ''})` +
      `${layers.length ? `, of layer(s) ${layers.join(', ')} past its layer count` : ''}: the config and the weights disagree`,
    path,
  );
}

/**
 * config.json fields that never change a causal LM's forward pass at inference: bookkeeping, token ids,
 * dropout rates (dropout is off at inference), generation defaults, head-task settings the LM head does
 * not read, and attention back-ends that compute the same function. The allow-list of a config.json is
 * these plus the fields its architecture reads (ArchitectureSpec.configKeys); any other field is refused
 * by name, since a field the lab ignores may change the numbers (issue 15: scale_attn_by_inverse_layer_idx
 * was once ignored and the logits were off by 0.3).
 */
export const INERT_CONFIG_KEYS: ReadonlySet<string> = new Set([
  // bookkeeping
  'architectures', 'model_type', 'transformers_version', 'torch_dtype', 'dtype', '_name_or_path', 'name_or_path',
  '_commit_hash', 'auto_map', 'custom_pipelines', 'tokenizer_class', 'prefix', 'finetuning_task', 'problem_type',
  'id2label', 'label2id', 'num_labels', 'task_specific_params', 'keys_to_ignore_at_inference', 'license', 'model_name',
  // token ids
  'bos_token_id', 'eos_token_id', 'pad_token_id', 'sep_token_id', 'unk_token_id', 'decoder_start_token_id',
  'forced_bos_token_id', 'forced_eos_token_id',
  // dropout (inactive at inference) and initialisation
  'attn_pdrop', 'resid_pdrop', 'embd_pdrop', 'summary_first_dropout', 'hidden_dropout', 'attention_dropout',
  'classifier_dropout', 'hidden_dropout_prob', 'attention_probs_dropout_prob', 'embed_dropout', 'initializer_range',
  // GPT2DoubleHeadsModel's multiple-choice head (not part of the LM)
  'summary_type', 'summary_use_proj', 'summary_activation', 'summary_proj_to_labels',
  // runtime switches
  'use_cache', 'gradient_checkpointing', 'output_attentions', 'output_hidden_states', 'return_dict', 'use_return_dict',
  'torchscript', 'use_bfloat16', 'tf_legacy_loss', 'chunk_size_feed_forward', 'is_decoder', 'attn_implementation',
  '_attn_implementation', '_attn_implementation_autoset', 'output_scores', 'return_dict_in_generate',
  // generation defaults (sampling, not the forward)
  'max_length', 'min_length', 'do_sample', 'early_stopping', 'num_beams', 'num_beam_groups', 'diversity_penalty',
  'temperature', 'top_k', 'top_p', 'typical_p', 'repetition_penalty', 'length_penalty', 'no_repeat_ngram_size',
  'encoder_no_repeat_ngram_size', 'bad_words_ids', 'num_return_sequences', 'remove_invalid_values',
  'exponential_decay_length_penalty', 'suppress_tokens', 'begin_suppress_tokens',
]);

/**
 * Fields inert only at their default value: a pruned head, an encoder-decoder or a quantised model is
 * a different forward, so anything else is refused by name.
 */
const INERT_AT: Record<string, (v: unknown) => boolean> = {
  pruned_heads: (v) => v == null || (typeof v === 'object' && Object.keys(v as object).length === 0),
  is_encoder_decoder: (v) => v === false || v == null,
  add_cross_attention: (v) => v === false || v == null,
  tie_encoder_decoder: (v) => v === false || v == null,
  cross_attention_hidden_size: (v) => v == null,
};

/** A field that never changes the forward pass at this value (INERT_CONFIG_KEYS, or INERT_AT at its default). */
export function isInertField(key: string, value: unknown): boolean {
  return INERT_CONFIG_KEYS.has(key) || (key in INERT_AT && INERT_AT[key]!(value));
}

/** Refuses every config.json field outside INERT_CONFIG_KEYS and `read` (what the architecture implements), naming it. */
export function checkConfigKeys(hf: Record<string, unknown>, read: ReadonlySet<string>, path: string, architecture: string): void {
  for (const [key, value] of Object.entries(hf)) {
    if (read.has(key) || isInertField(key, value)) continue;
    throw new InputError(
      `${path}: field "${key}" = ${JSON.stringify(value)?.slice(0, 80)} ${key in INERT_AT ? 'is not supported at that value' : 'is not one the lab reads'} ` +
        `for ${architecture}, and it may change the forward pass: refusing rather than ignoring it ` +
        `(remove it if you know it does not matter; the fields read are listed in activations/models/README.md)`,
      path,
    );
  }
}

/**
 * F16 and BF16 have the same width, so a header whose dtype was swapped (issue 19) parses and loads.
 * When config.json's torch_dtype corroborates the header nothing is guessed (CheckpointReader.read
 * refuses a mismatch outright). Without torch_dtype, a weight's binary exponents tell: a trained or
 * initialised matrix's magnitudes spread over about 8 octaves between their 1st and 99th percentile
 * (7.7 for a Gaussian; heavier tails spread more). Reading BF16 bits as F16 maps 8 BF16 octaves onto
 * one F16 octave (spread <= 2); reading F16 bits as BF16 stretches each F16 octave over 8 BF16 ones
 * (spread ~60). Matrices only (gains and biases may sit within an octave). Past those bounds the tensor is refused, naming the swap; a real matrix this narrow
 * (a binary or ternary quantised one) needs torch_dtype in config.json to load.
 */
export function checkHalfPlausible(name: string, dtype: string, shape: number[], data: Float32Array, path: string): void {
  // Matrices only: a norm gain or a bias may legitimately sit within one octave (gains near 1).
  if ((dtype !== 'F16' && dtype !== 'BF16') || shape.length !== 2 || data.length < 4096) return;
  const hist = new Uint32Array(256);
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  let nonzero = 0;
  for (let i = 0; i < bits.length; i++) {
    const e = (bits[i]! >>> 23) & 0xff;
    if (e === 0 || e === 0xff) continue; // zeros, subnormals, inf/nan
    hist[e]!++;
    nonzero++;
  }
  if (nonzero < 4096) return;
  const quantile = (q: number) => {
    let acc = 0;
    for (let e = 0; e < 256; e++) if ((acc += hist[e]!) >= q * nonzero) return e;
    return 255;
  };
  const spread = quantile(0.99) - quantile(0.01);
  const other = dtype === 'F16' ? 'BF16' : 'F16';
  if ((dtype === 'F16' && spread <= 2) || (dtype === 'BF16' && spread >= 32)) {
    throw new InputError(
      `${path}: tensor '${name}' is stored as ${dtype}, but its values span ${spread} octaves between their 1st and 99th percentile, ` +
        `which is what ${other} bits read as ${dtype} look like (a real weight matrix spans about 8): the header's dtype looks swapped. ` +
        `If the file is right, say so with "torch_dtype": "${dtype === 'F16' ? 'float16' : 'bfloat16'}" in config.json`,
      path,
    );
  }
}

/**
 * SAELens's on-disk layout: a folder with cfg.json and sae_weights.safetensors holding W_enc [d_in, d_sae],
 * b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in] and, for jumprelu, threshold [d_sae] (SAELens saves
 * exp(log_threshold) as `threshold`). cfg.json is written in SAELens 6's shape (d_in, d_sae, dtype,
 * device, apply_b_dec_to_input, normalize_activations, reshape_activations, architecture, k for topk,
 * metadata under `meta`), and also carries the flat keys older SAELens releases read (hook_name,
 * hook_layer, model_name, activation_fn_str, activation_fn_kwargs); SAELens 6 drops keys it does not know.
 *
 * Reading accepts both shapes: architecture 'standard' (ReLU) loads as relu-l1, 'topk' (or an older
 * cfg with activation_fn_str 'topk' and activation_fn_kwargs.k) as topk, 'jumprelu' as jumprelu.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, readJson, writeFileAtomic } from '../../lab/core/index.ts';
import { encodeSafetensors, SafetensorsFile, type TensorToWrite } from '../models/index.ts';
import type { Sae, SaeArch } from './model.ts';

export const SAE_CFG = 'cfg.json';
export const SAE_WEIGHTS = 'sae_weights.safetensors';

export interface SaeMeta {
  hookName: string;
  /** The model (or toy run) the SAE was trained on, for the cfg's model_name. */
  modelName?: string;
  hookLayer?: number;
  normalizeActivations?: string;
}

export interface LoadedSae {
  sae: Sae;
  meta: SaeMeta;
  cfg: Record<string, unknown>;
  dir: string;
}

const LAB_TO_SAELENS: Record<SaeArch, string> = { topk: 'topk', 'relu-l1': 'standard', jumprelu: 'jumprelu' };

/** The layer number in a TransformerLens hook name (blocks.3.mlp.hook_post -> 3), 0 otherwise. */
export function hookLayer(hook: string): number {
  const m = /^blocks\.(\d+)\./.exec(hook);
  return m ? Number(m[1]) : 0;
}

export function saeCfgJson(sae: Sae, meta: SaeMeta): Record<string, unknown> {
  const arch = LAB_TO_SAELENS[sae.arch];
  const layer = meta.hookLayer ?? hookLayer(meta.hookName);
  const cfg: Record<string, unknown> = {
    architecture: arch,
    d_in: sae.dIn,
    d_sae: sae.dSae,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: true,
    normalize_activations: meta.normalizeActivations ?? 'none',
    reshape_activations: 'none',
    meta: { model_name: meta.modelName ?? null, hook_name: meta.hookName, hook_layer: layer, hook_head_index: null },
    // Older SAELens (< 6) reads these flat keys.
    hook_name: meta.hookName,
    hook_layer: layer,
    model_name: meta.modelName ?? null,
    activation_fn_str: sae.arch === 'topk' ? 'topk' : 'relu',
    activation_fn_kwargs: sae.arch === 'topk' ? { k: sae.k } : {},
  };
  if (sae.arch === 'topk') cfg.k = sae.k;
  return cfg;
}

/** The two files' bytes; the caller writes them (atomically, through a RunDir or writeFileAtomic). */
export function encodeSae(sae: Sae, meta: SaeMeta): { cfg: string; weights: Uint8Array } {
  const t = new Map<string, TensorToWrite>([
    ['W_enc', { dtype: 'f32', shape: [sae.dIn, sae.dSae], data: sae.W_enc }],
    ['b_enc', { dtype: 'f32', shape: [sae.dSae], data: sae.b_enc }],
    ['W_dec', { dtype: 'f32', shape: [sae.dSae, sae.dIn], data: sae.W_dec }],
    ['b_dec', { dtype: 'f32', shape: [sae.dIn], data: sae.b_dec }],
  ]);
  if (sae.arch === 'jumprelu') t.set('threshold', { dtype: 'f32', shape: [sae.dSae], data: sae.threshold! });
  return { cfg: JSON.stringify(saeCfgJson(sae, meta), null, 2) + '\n', weights: encodeSafetensors(t) };
}

/** Writes cfg.json and the weights into `dir` (weights first, so a folder with a cfg.json is whole). */
export function writeSae(dir: string, sae: Sae, meta: SaeMeta): void {
  const { cfg, weights } = encodeSae(sae, meta);
  writeFileAtomic(join(dir, SAE_WEIGHTS), weights);
  writeFileAtomic(join(dir, SAE_CFG), cfg);
}

function archOf(cfg: Record<string, unknown>, path: string): SaeArch {
  const a = cfg.architecture ?? 'standard';
  const fn = cfg.activation_fn_str ?? cfg.activation_fn;
  if (a === 'standard') return fn === 'topk' ? 'topk' : 'relu-l1';
  if (a === 'topk') return 'topk';
  if (a === 'jumprelu') return 'jumprelu';
  throw new InputError(`${path}: architecture '${String(a)}' is not supported (topk, standard and jumprelu are)`, path);
}

/** Reads a SAELens folder, checking every tensor's shape against cfg.json. */
export function readSae(dir: string): LoadedSae {
  const cfgPath = join(dir, SAE_CFG), wPath = join(dir, SAE_WEIGHTS);
  if (!existsSync(cfgPath)) throw new InputError(`${dir} is not an SAE folder: ${cfgPath} is missing`, cfgPath);
  const cfg = readJson<Record<string, unknown>>(cfgPath);
  const dIn = cfg.d_in, dSae = cfg.d_sae;
  if (!Number.isInteger(dIn) || !Number.isInteger(dSae) || (dIn as number) < 1 || (dSae as number) < 1) {
    throw new InputError(`${cfgPath}: d_in and d_sae must be positive integers (got ${String(dIn)}, ${String(dSae)})`, cfgPath);
  }
  const arch = archOf(cfg, cfgPath);
  const kwargs = (cfg.activation_fn_kwargs ?? {}) as Record<string, unknown>;
  const k = arch === 'topk' ? Number(cfg.k ?? kwargs.k) : 0;
  if (arch === 'topk' && !(Number.isInteger(k) && k >= 1 && k <= (dSae as number))) {
    throw new InputError(`${cfgPath}: a topk SAE needs k in 1..d_sae (${String(dSae)}); got ${String(cfg.k ?? kwargs.k)}`, cfgPath);
  }
  const meta = (cfg.meta ?? {}) as Record<string, unknown>;
  const hookName = (meta.hook_name ?? cfg.hook_name ?? cfg.hook_point) as string | undefined;
  if (typeof hookName !== 'string') throw new InputError(`${cfgPath} names no hook (meta.hook_name or hook_name)`, cfgPath);
  const norm = String(cfg.normalize_activations ?? 'none');
  if (norm !== 'none' && norm !== 'expected_average_only_in') {
    throw new InputError(`${cfgPath}: normalize_activations '${norm}' is not supported (none, or expected_average_only_in with the factor folded in)`, cfgPath);
  }
  if (cfg.reshape_activations !== undefined && cfg.reshape_activations !== 'none') {
    throw new InputError(`${cfgPath}: reshape_activations '${String(cfg.reshape_activations)}' is not supported`, cfgPath);
  }
  if (cfg.apply_b_dec_to_input === false) {
    throw new InputError(`${cfgPath}: apply_b_dec_to_input false is not supported (this lab subtracts b_dec before encoding)`, cfgPath);
  }
  if (!existsSync(wPath)) throw new InputError(`${dir}: ${wPath} is missing`, wPath);
  const f = SafetensorsFile.open(wPath);
  try {
    const want: Record<string, number[]> = { W_enc: [dIn as number, dSae as number], b_enc: [dSae as number], W_dec: [dSae as number, dIn as number], b_dec: [dIn as number] };
    if (arch === 'jumprelu') want.threshold = [dSae as number];
    const read = (name: string): Float32Array => {
      if (!f.tensors.has(name)) throw new InputError(`${wPath} has no tensor '${name}' (a ${arch} SAE needs ${Object.keys(want).join(', ')})`, wPath);
      const shape = f.info(name).shape;
      if (shape.join(',') !== want[name]!.join(',')) {
        throw new InputError(`${wPath}: ${name} has shape [${shape}], expected [${want[name]}] from ${SAE_CFG} (d_in ${String(dIn)}, d_sae ${String(dSae)})`, wPath);
      }
      return f.readF32(name);
    };
    const sae: Sae = {
      arch, dIn: dIn as number, dSae: dSae as number, k,
      W_enc: read('W_enc'), b_enc: read('b_enc'), W_dec: read('W_dec'), b_dec: read('b_dec'),
      ...(arch === 'jumprelu' ? { threshold: read('threshold') } : {}),
    };
    return {
      sae, dir, cfg,
      meta: { hookName, modelName: (meta.model_name ?? cfg.model_name ?? undefined) as string | undefined, hookLayer: Number(meta.hook_layer ?? cfg.hook_layer ?? 0), normalizeActivations: norm },
    };
  } finally {
    f.close();
  }
}

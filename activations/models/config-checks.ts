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

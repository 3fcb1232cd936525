/**
 * The next-token loss with the SAE spliced in at its hook (the hook's value replaced by the SAE's
 * reconstruction at every position), against the clean model and against zero- and mean-ablating the
 * hook, as SAELens's get_recons_loss:
 *   loss_recovered = (L_ablated - L_sae) / (L_ablated - L_clean)   (1 = the SAE loses nothing)
 * reported for both ablations; SAELens reports the zero-ablation one as ce_loss_score. The mean is the
 * hook's mean over the evaluation store's rows. Loss in nats per predicted token and in bits per byte
 * (the UTF-8 bytes of the predicted tokens' text).
 *
 * Text is tokenised whole and cut into non-overlapping windows of the model's context, each starting
 * with BOS when the tokenizer has one; every token after a window's first is predicted once.
 */
import { tf } from '../../lab/core/backend.ts';
import { InputError } from '../../lab/core/index.ts';
import type { LanguageModel } from '../types.ts';
import { encodeDecode, type Sae } from './model.ts';

export interface SplicedLoss {
  targets: number;
  bytes: number;
  clean: number;
  sae: number;
  zero_ablation: number;
  mean_ablation: number;
  loss_recovered_zero: number;
  loss_recovered_mean: number;
  bits_per_byte: { clean: number; sae: number; zero_ablation: number; mean_ablation: number };
}

function windows(ids: number[], context: number, bos: number | undefined): number[][] {
  const step = bos !== undefined ? context - 1 : context;
  const out: number[][] = [];
  for (let i = 0; i + 1 < ids.length; i += step) {
    const w = ids.slice(i, i + step);
    if (w.length < 2 && bos === undefined) break;
    out.push(bos !== undefined ? [bos, ...w] : w);
  }
  return out;
}

export function splicedLoss(model: LanguageModel, sae: Sae, hook: string, text: string, mean: Float32Array, opts: { maxTokens?: number; batch?: number } = {}): SplicedLoss {
  if (!model.hookNames().includes(hook)) {
    throw new InputError(`the SAE's hook '${hook}' is not a hook of the model ${model.source.dir}`, model.source.dir);
  }
  let ids = model.tokenizer.encode(text);
  if (opts.maxTokens !== undefined) ids = ids.slice(0, opts.maxTokens);
  const ws = windows(ids, model.config.contextLength, model.tokenizer.bosId);
  if (ws.length === 0) throw new InputError('the text file has fewer than 2 tokens: nothing to predict');
  const sums = { clean: 0, sae: 0, zero_ablation: 0, mean_ablation: 0 };
  let targets = 0, bytes = 0, widthChecked = false;
  const batch = opts.batch ?? 8;
  const replace = (mode: keyof typeof sums) => (_name: string, v: tf.Tensor): tf.Tensor | void => {
    const d = v.shape[v.shape.length - 1]!;
    if (!widthChecked) {
      if (d !== sae.dIn) throw new InputError(`the SAE's d_in ${sae.dIn} differs from the width of '${hook}' in the model (${d})`);
      widthChecked = true;
    }
    if (mode === 'clean') return;
    if (mode === 'zero_ablation') return tf.zerosLike(v);
    if (mode === 'mean_ablation') return tf.broadcastTo(tf.tensor1d(mean), v.shape);
    const x = v.dataSync() as Float32Array;
    return tf.tensor(encodeDecode(sae, x, x.length / d).recon, v.shape);
  };
  for (let b = 0; b < ws.length; b += batch) {
    // One length per batch: group by window length (only the last window can be short).
    const group = ws.slice(b, b + batch).filter((w) => w.length === ws[b]!.length);
    const rest = ws.slice(b, b + batch).filter((w) => w.length !== ws[b]!.length);
    for (const g of rest.length ? [group, rest] : [group]) {
      const len = g[0]!.length;
      const tgt = g.flatMap((w) => w.slice(1));
      targets += tgt.length;
      bytes += g.reduce((s, w) => s + Buffer.byteLength(model.tokenizer.decode(w.slice(1)), 'utf8'), 0);
      for (const mode of Object.keys(sums) as (keyof typeof sums)[]) {
        sums[mode] += tf.tidy(() => {
          const input = tf.tensor2d(g.flat(), [g.length, len], 'int32');
          const { logits, cache } = model.forward(input, { hooks: { [hook]: replace(mode) } });
          for (const t of cache.values()) t.dispose();
          const V = logits.shape[2];
          const lg = tf.reshape(tf.slice(logits, [0, 0, 0], [g.length, len - 1, V]), [-1, V]) as tf.Tensor2D;
          const lse = tf.logSumExp(lg, -1);
          const flat = Int32Array.from(tgt, (t, i) => i * V + t);
          const picked = tf.gather(tf.reshape(lg, [-1]), tf.tensor1d(flat, 'int32'));
          return tf.sum(tf.sub(lse, picked)).dataSync()[0]!;
        });
      }
    }
  }
  const per = (s: number) => s / targets;
  const bpb = (s: number) => s / Math.LN2 / bytes;
  const L = { clean: per(sums.clean), sae: per(sums.sae), zero_ablation: per(sums.zero_ablation), mean_ablation: per(sums.mean_ablation) };
  return {
    targets, bytes, ...L,
    loss_recovered_zero: (L.zero_ablation - L.sae) / (L.zero_ablation - L.clean),
    loss_recovered_mean: (L.mean_ablation - L.sae) / (L.mean_ablation - L.clean),
    bits_per_byte: { clean: bpb(sums.clean), sae: bpb(sums.sae), zero_ablation: bpb(sums.zero_ablation), mean_ablation: bpb(sums.mean_ablation) },
  };
}

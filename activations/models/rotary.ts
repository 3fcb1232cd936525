/**
 * Rotary position embeddings for the shared forward pass: the inverse frequencies (with HF's
 * rope_scaling variants 'linear' and 'llama3'), the cos/sin tables, and the two layouts in use:
 * rotate-half (GPT-NeoX, Llama, Mistral, Qwen2, Gemma: dim i pairs with i + r/2) and GPT-J's
 * interleaved pairs (dims 2i and 2i+1, HF's rotate_every_two). Using one layout's tables with the
 * other's rotation gives a model that runs and is wrong, so the two always travel together here.
 */
import { tf } from '../../lab/core/backend.ts';
import type { TransformerConfig } from './config.ts';

/**
 * The r/2 inverse frequencies base^(-2i/r), rescaled as rope_scaling says. llama3 (HF
 * _compute_llama3_parameters): wavelengths longer than original/low_freq_factor are divided by
 * factor, shorter than original/high_freq_factor kept, and the band between interpolated smoothly.
 */
export function rotaryInvFreq(cfg: Pick<TransformerConfig, 'rotaryDims' | 'rotaryBase' | 'rotaryScaling'>): number[] {
  const r = cfg.rotaryDims;
  const out: number[] = [];
  for (let i = 0; i < r / 2; i++) out.push(1 / cfg.rotaryBase ** ((2 * i) / r));
  const s = cfg.rotaryScaling;
  if (!s) return out;
  if (s.type === 'linear') return out.map((f) => f / s.factor);
  const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositions / s.highFreqFactor;
  return out.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / s.factor;
    const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}

/**
 * cos and sin [seq, rotaryDims] for positions offset..; frequency i sits at dims i and i + r/2
 * (rotate-half) or at 2i and 2i + 1 (interleaved). Float32 throughout, as the HF modules compute them.
 */
export function rotaryTables(cfg: TransformerConfig, offset: number, seq: number): [tf.Tensor2D, tf.Tensor2D] {
  const r = cfg.rotaryDims;
  const half = r / 2;
  const inv = rotaryInvFreq(cfg).map(Math.fround);
  const cos = new Float32Array(seq * r);
  const sin = new Float32Array(seq * r);
  for (let p = 0; p < seq; p++) {
    for (let i = 0; i < half; i++) {
      const a = Math.fround((offset + p) * inv[i]!);
      const [lo, hi] = cfg.rotaryInterleaved ? [2 * i, 2 * i + 1] : [i, i + half];
      cos[p * r + lo] = cos[p * r + hi] = Math.cos(a);
      sin[p * r + lo] = sin[p * r + hi] = Math.sin(a);
    }
  }
  return [tf.tensor2d(cos, [seq, r]), tf.tensor2d(sin, [seq, r])];
}

/** x [B, S, H, dh]: rotate the first r dims of each head; x * cos + rotate(x) * sin. */
export function applyRotary(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D, r: number, interleaved = false): tf.Tensor4D {
  const [B, S, H, dh] = x.shape;
  const rot = tf.slice(x, [0, 0, 0, 0], [B, S, H, r]);
  let rotated: tf.Tensor;
  if (interleaved) {
    // rotate_every_two: (x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...)
    const pairs = tf.reshape(rot, [B, S, H, r / 2, 2]);
    const even = tf.slice(pairs, [0, 0, 0, 0, 0], [B, S, H, r / 2, 1]);
    const odd = tf.slice(pairs, [0, 0, 0, 0, 1], [B, S, H, r / 2, 1]);
    rotated = tf.reshape(tf.concat([tf.neg(odd), even], 4), [B, S, H, r]);
  } else {
    const x1 = tf.slice(rot, [0, 0, 0, 0], [B, S, H, r / 2]);
    const x2 = tf.slice(rot, [0, 0, 0, r / 2], [B, S, H, r / 2]);
    rotated = tf.concat([tf.neg(x2), x1], 3);
  }
  const c = tf.reshape(cos, [1, S, 1, r]);
  const s = tf.reshape(sin, [1, S, 1, r]);
  const out = tf.add(tf.mul(rot, c), tf.mul(rotated, s));
  if (r === dh) return out as tf.Tensor4D;
  return tf.concat([out, tf.slice(x, [0, 0, 0, r], [B, S, H, dh - r])], 3) as tf.Tensor4D;
}

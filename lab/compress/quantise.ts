/**
 * Turns a model's next-token logits into integer frequencies that the encoder and the decoder compute
 * bit for bit alike.
 *
 * Why identical inputs give identical frequencies: the logits are a Float32Array from the same model,
 * backend and tfjs version, produced by the same sequence of forward calls with the same shapes (one
 * token at a time through the KV cache, the same window restarts), so each kernel runs the same
 * instructions on the same bytes. Everything after that is done here in float64 with only +, -, *, /,
 * floor and round, which IEEE 754 defines to the last bit; in particular exp is our own polynomial
 * rather than Math.exp, whose last bit is up to the JS engine. Summation is in id order.
 *
 * What breaks it, and is therefore recorded in the file header and checked: another model or
 * tokenizer, another backend (cpu, wasm and libtensorflow order their reductions differently; a GPU's
 * atomics may even differ run to run), another tfjs version (kernels change), another quantisation
 * total, context length or overlap (other shapes). Not recorded, and the reason the original's
 * checksum is verified after decoding: a wasm build that takes another SIMD path on another CPU.
 */
import { NumericError } from '../core/index.ts';

/** Logits more than this far below the maximum get only the floor of 1 (e^-60 * 2^24 < 1e-18). */
const CUTOFF = -60;
const LN2_HI = 6.93147180369123816490e-1; // fdlibm's split of ln 2: k * LN2_HI is exact for |k| < 2^11
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700;
/** 2^-k for k = 0..90, built by halving, which is exact. */
const POW2_NEG = (() => {
  const t = new Float64Array(91);
  t[0] = 1;
  for (let k = 1; k < t.length; k++) t[k] = t[k - 1]! / 2;
  return t;
})();

/**
 * exp(x) for CUTOFF <= x <= 0 with basic operations only: x = k ln2 + r, |r| <= ln2 / 2, and a
 * degree-13 Taylor polynomial for e^r (truncation error < 1e-15 relative).
 */
export function detExp(x: number): number {
  if (x < CUTOFF) return 0;
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  let p = 1 / 6227020800; // 1/13!
  p = p * r + 1 / 479001600;
  p = p * r + 1 / 39916800;
  p = p * r + 1 / 3628800;
  p = p * r + 1 / 362880;
  p = p * r + 1 / 40320;
  p = p * r + 1 / 5040;
  p = p * r + 1 / 720;
  p = p * r + 1 / 120;
  p = p * r + 1 / 24;
  p = p * r + 1 / 6;
  p = p * r + 1 / 2;
  p = p * r + 1;
  p = p * r + 1;
  return p * POW2_NEG[-k]!;
}

export interface Quantised {
  /** One frequency per logit, each >= 1, summing to `total`. */
  freqs: Int32Array;
  /** The model's own probability of each token is exp(logit - max) / sum; kept for cross-entropy. */
  max: number;
  sum: number;
}

/**
 * freq_i = 1 + floor(p_i * (total - n)), then the rounding remainder goes to the most likely token
 * (the lowest id among equal maxima). `out` is reused between calls to avoid allocating per token.
 */
export function quantise(logits: ArrayLike<number>, total: number, out?: Int32Array): Quantised {
  const n = logits.length;
  if (total < 4 * n) throw new RangeError(`quantisation total ${total} is too small for ${n} symbols`);
  const freqs = out && out.length === n ? out : new Int32Array(n);
  let max = -Infinity;
  let argmax = 0;
  for (let i = 0; i < n; i++) {
    const l = logits[i]!;
    if (Number.isNaN(l) || l === Infinity) throw new NumericError(`the model produced a non-finite logit (${l}) for token ${i}`);
    if (l > max) (max = l), (argmax = i);
  }
  if (max === -Infinity) throw new NumericError('the model gave every token a logit of -Infinity');
  const e = scratch(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = detExp(logits[i]! - max);
    e[i] = v;
    sum += v;
  }
  const scale = (total - n) / sum;
  let used = 0;
  for (let i = 0; i < n; i++) {
    const f = 1 + Math.floor(e[i]! * scale);
    freqs[i] = f;
    used += f;
  }
  // The remainder is below n (flooring) and may be a unit or two negative (products rounded up across
  // an integer); argmax holds at least (total - n) / n + 1 >= 4 units, more than it can lose.
  freqs[argmax]! += total - used;
  if (freqs[argmax]! < 1) throw new NumericError(`quantisation left token ${argmax} without mass`);
  return { freqs, max, sum };
}

let scratchBuf = new Float64Array(0);
function scratch(n: number): Float64Array {
  if (scratchBuf.length < n) scratchBuf = new Float64Array(n);
  return scratchBuf;
}

/** -log2 of the model's own (unquantised) probability of `token`, given a `quantise` result. */
export function modelBits(logits: ArrayLike<number>, q: Quantised, token: number): number {
  return (q.max - logits[token]!) / Math.LN2 + Math.log2(q.sum);
}

/**
 * AdamW with PyTorch's semantics (decoupled weight decay applied to every parameter, bias-corrected
 * moments), fused into one pass over a flat parameter vector.
 */
export interface AdamState {
  m: Float32Array;
  v: Float32Array;
  t: number;
}

export interface AdamHyper {
  lr: number;
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export function adamState(size: number): AdamState {
  return { m: new Float32Array(size), v: new Float32Array(size), t: 0 };
}

export function adamwStep(p: Float32Array, g: Float32Array, s: AdamState, h: AdamHyper): void {
  const b1 = h.beta1 ?? 0.9;
  const b2 = h.beta2 ?? 0.999;
  const eps = h.eps ?? 1e-8;
  s.t++;
  const stepSize = h.lr / (1 - Math.pow(b1, s.t));
  const sqrtBc2 = Math.sqrt(1 - Math.pow(b2, s.t));
  const decay = 1 - h.lr * h.weightDecay;
  const { m, v } = s;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const mi = b1 * m[i]! + (1 - b1) * gi;
    const vi = b2 * v[i]! + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
}

/**
 * Sparse autoencoders on Float32Arrays: the three SAELens architectures (topk, standard ReLU + L1,
 * jumprelu), their forward pass and hand-derived gradients.
 *
 * Layout and definitions follow SAELens (sae_lens/saes/*.py):
 *   sae_in   = x - b_dec                         (apply_b_dec_to_input = true)
 *   pre      = sae_in @ W_enc + b_enc            W_enc [d_in, d_sae]
 *   topk:      acts = scatter(ReLU(topk(pre, k)))   (ReLU after the top-k, as SAELens's TopK module)
 *   relu-l1:   acts = ReLU(pre)
 *   jumprelu:  acts = pre * (pre > threshold)
 *   x_hat    = acts @ W_dec + b_dec              W_dec [d_sae, d_in], rows kept at unit norm in training
 * Loss: mse = mean over rows of sum over d_in of (x_hat - x)^2 (SAELens sums over the dimension, means
 * over the batch). relu-l1 adds l1 * mean_rows sum_j acts_j (the decoder rows are unit norm, so scaling
 * by their norm is the identity). jumprelu adds l0 * mean_rows sum_j H(pre_j - threshold_j) with the
 * straight-through threshold gradient of Rajamanoharan et al. (2024) (rectangle kernel, bandwidth eps),
 * as SAELens's Step/JumpReLU autograd functions. topk adds the AuxK loss (Gao et al. 2024, SAELens's
 * calculate_topk_aux_loss): the top k_aux = d_in/2 dead latents' pre-activations reconstruct the
 * detached residual x - x_hat, scaled by min(dead / k_aux, 1).
 *
 * Every pass is sparse after the encoder: only active latents touch W_dec, and the encoder gradient
 * is an outer product with a sparse dL/dpre, so a step costs B * d_in * d_sae (the encoder) plus
 * B * d_in * (active latents) rather than three dense products.
 */

export const SAE_ARCHS = ['topk', 'relu-l1', 'jumprelu'] as const;
export type SaeArch = (typeof SAE_ARCHS)[number];

export interface Sae {
  arch: SaeArch;
  dIn: number;
  dSae: number;
  /** topk only. */
  k: number;
  W_enc: Float32Array;
  b_enc: Float32Array;
  W_dec: Float32Array;
  b_dec: Float32Array;
  /** jumprelu only: per-latent threshold (> 0). */
  threshold?: Float32Array;
}

export interface LossCoefficients {
  /** relu-l1: the L1 coefficient. */
  l1: number;
  /** jumprelu: the L0 coefficient and the straight-through bandwidth. */
  l0: number;
  bandwidth: number;
  /** topk: weight of the AuxK loss (0 turns it off). */
  aux: number;
}

export const DEFAULT_COEFFICIENTS: LossCoefficients = { l1: 1e-3, l0: 1e-3, bandwidth: 1e-3, aux: 1 / 32 };

/** Gradients with the Sae's shapes; for jumprelu `threshold` holds dL/dthreshold (straight-through). */
export interface SaeGrads {
  W_enc: Float32Array;
  b_enc: Float32Array;
  W_dec: Float32Array;
  b_dec: Float32Array;
  threshold: Float32Array;
}

export interface StepStats {
  loss: number;
  mse: number;
  /** The sparsity term (l1 or l0 penalty) or the aux loss, whichever the architecture has. */
  penalty: number;
  aux: number;
  /** Mean active latents per row. */
  l0: number;
}

export function zeroGrads(sae: Sae): SaeGrads {
  return {
    W_enc: new Float32Array(sae.W_enc.length), b_enc: new Float32Array(sae.dSae),
    W_dec: new Float32Array(sae.W_dec.length), b_dec: new Float32Array(sae.dIn), threshold: new Float32Array(sae.dSae),
  };
}

/** C [m x n] = A [m x k] B [k x n], row-major. */
export type DenseMatMul = (a: Float32Array, b: Float32Array, m: number, k: number, n: number) => Float32Array;

let denseMatMul: DenseMatMul | undefined;
/** Products of at least this many multiply-adds go to the registered matMul (tfjs: XNNPACK on wasm). */
export const DENSE_MATMUL_MIN = 1 << 22;

/** Registers (or clears) a faster dense product for the encoder; see tf-matmul.ts. */
export function setDenseMatMul(f: DenseMatMul | undefined): void {
  denseMatMul = f;
}

/** pre [rows x d_sae] = (x - b_dec) W_enc + b_enc: the one dense product, rows x d_in x d_sae. */
export function preActivations(sae: Sae, x: Float32Array, rows: number, pre = new Float32Array(rows * sae.dSae)): Float32Array {
  const { dIn, dSae, W_enc, b_enc, b_dec } = sae;
  if (denseMatMul && rows * dIn * dSae >= DENSE_MATMUL_MIN) {
    const xc = new Float32Array(rows * dIn);
    for (let r = 0; r < rows; r++) for (let i = 0; i < dIn; i++) xc[r * dIn + i] = x[r * dIn + i]! - b_dec[i]!;
    const p = denseMatMul(xc, W_enc, rows, dIn, dSae);
    for (let r = 0; r < rows; r++) for (let j = 0; j < dSae; j++) pre[r * dSae + j] = p[r * dSae + j]! + b_enc[j]!;
    return pre;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * dSae;
    for (let j = 0; j < dSae; j++) pre[o + j] = b_enc[j]!;
    for (let i = 0; i < dIn; i++) {
      const xi = x[r * dIn + i]! - b_dec[i]!;
      if (xi === 0) continue;
      const w = i * dSae;
      for (let j = 0; j < dSae; j++) pre[o + j] += xi * W_enc[w + j]!;
    }
  }
  return pre;
}

/**
 * The active latents of one row: indices and values, written into idx/val from 0; returns the count.
 * topk keeps the k largest pre-activations (ties broken towards the lower index) and then applies ReLU,
 * so a row can have fewer than k active latents, as in SAELens.
 */
export function activate(sae: Sae, pre: Float32Array, off: number, idx: Int32Array, val: Float32Array): number {
  const { dSae } = sae;
  let n = 0;
  if (sae.arch === 'topk') {
    n = topkInto(pre, off, dSae, sae.k, idx, val, undefined);
    let m = 0;
    for (let t = 0; t < n; t++) if (val[t]! > 0) { idx[m] = idx[t]!; val[m++] = val[t]!; }
    return m;
  }
  const th = sae.threshold;
  for (let j = 0; j < dSae; j++) {
    const z = pre[off + j]!;
    if (sae.arch === 'relu-l1' ? z > 0 : z > th![j]!) { idx[n] = j; val[n++] = z; }
  }
  return n;
}

/**
 * The k largest of pre[off .. off+len) (only where `allowed[j]`, when given) into idx/val, by a
 * partial selection that keeps a sorted list of k: O(len * k) worst case, O(len) typical for small k.
 */
export function topkInto(pre: Float32Array, off: number, len: number, k: number, idx: Int32Array, val: Float32Array, allowed: Uint8Array | undefined): number {
  let n = 0;
  for (let j = 0; j < len; j++) {
    if (allowed && !allowed[j]) continue;
    const z = pre[off + j]!;
    if (n === k && z <= val[k - 1]!) continue;
    let p = n < k ? n++ : k - 1;
    while (p > 0 && val[p - 1]! < z) { val[p] = val[p - 1]!; idx[p] = idx[p - 1]!; p--; }
    val[p] = z;
    idx[p] = j;
  }
  return n;
}

/**
 * The k largest pre-activations among the dead latents of one row. k_aux = d_in / 2 is large (256 for a
 * 512-wide hook), so this sorts the dead candidates instead of keeping an insertion-sorted list; ties go
 * to the lower index, as topkInto.
 */
export function auxTopk(pre: Float32Array, off: number, len: number, k: number, dead: Uint8Array, idx: Int32Array, val: Float32Array): number {
  if (k <= 16) return topkInto(pre, off, len, k, idx, val, dead);
  const cand: number[] = [];
  for (let j = 0; j < len; j++) if (dead[j]) cand.push(j);
  cand.sort((a, b) => pre[off + b]! - pre[off + a]! || a - b);
  const n = Math.min(k, cand.length);
  for (let t = 0; t < n; t++) { idx[t] = cand[t]!; val[t] = pre[off + cand[t]!]!; }
  return n;
}

/** x_hat for rows given their sparse codes (CSR: start[r]..start[r+1] into idx/val). */
export function decodeSparse(sae: Sae, rows: number, start: Int32Array, idx: Int32Array, val: Float32Array, out: Float32Array): void {
  const { dIn, W_dec, b_dec } = sae;
  for (let r = 0; r < rows; r++) {
    const o = r * dIn;
    for (let i = 0; i < dIn; i++) out[o + i] = b_dec[i]!;
    for (let t = start[r]!; t < start[r + 1]!; t++) {
      const a = val[t]!, w = idx[t]! * dIn;
      for (let i = 0; i < dIn; i++) out[o + i] += a * W_dec[w + i]!;
    }
  }
}

/**
 * Dense latent activations [rows x d_sae] alone (no decode): what a latent store holds. One function
 * for `lab sae encode` and `lab harvest --sae`, so both write the same floats for the same rows.
 */
export function encodeLatents(sae: Sae, x: Float32Array, rows: number): Float32Array {
  const codes = sparseCodes(sae, preActivations(sae, x, rows), rows);
  const acts = new Float32Array(rows * sae.dSae);
  for (let r = 0; r < rows; r++) for (let t = codes.start[r]!; t < codes.start[r + 1]!; t++) acts[r * sae.dSae + codes.idx[t]!] = codes.val[t]!;
  return acts;
}

/** Dense latent activations [rows x d_sae] and reconstructions [rows x d_in]: the inference forward. */
export function encodeDecode(sae: Sae, x: Float32Array, rows: number): { acts: Float32Array; recon: Float32Array } {
  const pre = preActivations(sae, x, rows);
  const codes = sparseCodes(sae, pre, rows);
  const acts = new Float32Array(rows * sae.dSae);
  for (let r = 0; r < rows; r++) for (let t = codes.start[r]!; t < codes.start[r + 1]!; t++) acts[r * sae.dSae + codes.idx[t]!] = codes.val[t]!;
  const recon = new Float32Array(rows * sae.dIn);
  decodeSparse(sae, rows, codes.start, codes.idx, codes.val, recon);
  return { acts, recon };
}

export interface SparseCodes {
  start: Int32Array;
  idx: Int32Array;
  val: Float32Array;
}

export function sparseCodes(sae: Sae, pre: Float32Array, rows: number): SparseCodes {
  const cap = sae.arch === 'topk' ? sae.k : sae.dSae;
  const start = new Int32Array(rows + 1);
  let idx = new Int32Array(Math.max(16, rows * Math.min(cap, 8))), val = new Float32Array(idx.length);
  const ri = new Int32Array(sae.dSae), rv = new Float32Array(sae.dSae);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const m = activate(sae, pre, r * sae.dSae, ri, rv);
    if (n + m > idx.length) {
      const grow = Math.max(idx.length * 2, n + m);
      const i2 = new Int32Array(grow); i2.set(idx); idx = i2;
      const v2 = new Float32Array(grow); v2.set(val); val = v2;
    }
    idx.set(ri.subarray(0, m), n);
    val.set(rv.subarray(0, m), n);
    n += m;
    start[r + 1] = n;
  }
  return { start, idx: idx.subarray(0, n), val: val.subarray(0, n) };
}

const rect = (u: number): number => (u > -0.5 && u < 0.5 ? 1 : 0);

/**
 * Loss and gradients (accumulated into `g`, which the caller zeroes) for one batch. `dead` marks the
 * latents the AuxK loss may use (topk only). Returns the loss terms and the batch's sparse codes (for
 * dead-latent tracking) and reconstruction.
 */
export function lossAndGrad(
  sae: Sae, x: Float32Array, rows: number, coef: LossCoefficients, g: SaeGrads | undefined, dead?: Uint8Array,
): StepStats & { codes: SparseCodes; recon: Float32Array } {
  const { dIn, dSae, W_dec } = sae;
  const pre = preActivations(sae, x, rows);
  const codes = sparseCodes(sae, pre, rows);
  const recon = new Float32Array(rows * dIn);
  decodeSparse(sae, rows, codes.start, codes.idx, codes.val, recon);
  const inv = 1 / rows;
  let mse = 0;
  const dxh = new Float32Array(rows * dIn);
  for (let t = 0; t < rows * dIn; t++) {
    const e = recon[t]! - x[t]!;
    mse += e * e;
    dxh[t] = 2 * e * inv;
  }
  mse *= inv;
  let penalty = 0, aux = 0;
  const nnz = codes.start[rows]!;
  if (sae.arch === 'relu-l1') for (let t = 0; t < nnz; t++) penalty += codes.val[t]!;
  if (sae.arch === 'jumprelu') penalty = nnz;
  penalty *= (sae.arch === 'relu-l1' ? coef.l1 : sae.arch === 'jumprelu' ? coef.l0 : 0) * inv;

  // AuxK (topk): dead latents reconstruct the residual.
  let nDead = 0;
  if (sae.arch === 'topk' && dead && coef.aux > 0) for (let j = 0; j < dSae; j++) nDead += dead[j]!;
  const kAuxFull = Math.floor(dIn / 2);
  const useAux = nDead > 0 && kAuxFull > 0;
  const auxIdx = new Int32Array(useAux ? Math.min(kAuxFull, nDead) : 0), auxVal = new Float32Array(auxIdx.length);
  const auxScale = useAux ? coef.aux * Math.min(nDead / kAuxFull, 1) : 0;
  const dAux = useAux ? new Float32Array(dIn) : undefined;

  // A large SAE collects dL/dpre densely and takes the encoder gradient as one product on the registered
  // matMul (denseEncoderGrad): the per-latent column updates of W_enc [d_in, d_sae] are strided, and with
  // AuxK's d_in/2 latents per row they were most of the step.
  const dPre = g && useDense(sae, rows) ? new Float32Array(rows * dSae) : undefined;
  const encoderGrad = (xo: number, r: number, j: number, d: number) => {
    if (dPre) dPre[r * dSae + j] += d;
    else addEncoderGrad(sae, g!, x, xo, j, d);
  };
  const th = sae.threshold, eps = coef.bandwidth;
  for (let r = 0; r < rows; r++) {
    const xo = r * dIn, po = r * dSae;
    // decoder side: dW_dec[j] += a_j dxh, dpre_j = dxh . W_dec[j] where the activation passes gradient.
    for (let t = codes.start[r]!; t < codes.start[r + 1]!; t++) {
      const j = codes.idx[t]!, a = codes.val[t]!, w = j * dIn;
      let df = 0;
      for (let i = 0; i < dIn; i++) {
        df += dxh[xo + i]! * W_dec[w + i]!;
        if (g) g.W_dec[w + i] += a * dxh[xo + i]!;
      }
      if (g) encoderGrad(xo, r, j, sae.arch === 'relu-l1' ? df + coef.l1 * inv : df);
    }
    if (g) for (let i = 0; i < dIn; i++) g.b_dec[i] += dxh[xo + i]!;
    if (sae.arch === 'jumprelu' && g) {
      // Straight-through threshold gradient: every latent within the band, active or not.
      for (let j = 0; j < dSae; j++) {
        const u = (pre[po + j]! - th![j]!) / eps;
        if (!rect(u)) continue;
        let df = 0;
        const w = j * dIn;
        for (let i = 0; i < dIn; i++) df += dxh[xo + i]! * W_dec[w + i]!;
        g.threshold[j] += -(th![j]! / eps) * df - (coef.l0 * inv) / eps;
      }
    }
    if (useAux) {
      const n = auxTopk(pre, po, dSae, auxIdx.length, dead!, auxIdx, auxVal);
      // e = (aux acts) W_dec + b_dec - residual, accumulated latent by latent (rows of W_dec are contiguous).
      const e = dAux!;
      for (let i = 0; i < dIn; i++) e[i] = sae.b_dec[i]! - (x[xo + i]! - recon[xo + i]!);
      for (let t = 0; t < n; t++) {
        const a = auxVal[t]!, w = auxIdx[t]! * dIn;
        for (let i = 0; i < dIn; i++) e[i] += a * W_dec[w + i]!;
      }
      let sq = 0;
      for (let i = 0; i < dIn; i++) {
        sq += e[i]! * e[i]!;
        e[i] = 2 * auxScale * e[i]! * inv;
      }
      aux += sq;
      if (g) {
        for (let i = 0; i < dIn; i++) g.b_dec[i] += e[i]!;
        for (let t = 0; t < n; t++) {
          const j = auxIdx[t]!, a = auxVal[t]!, w = j * dIn;
          let df = 0;
          for (let i = 0; i < dIn; i++) {
            df += e[i]! * W_dec[w + i]!;
            g.W_dec[w + i] += a * e[i]!;
          }
          encoderGrad(xo, r, j, df);
        }
      }
    }
  }
  if (dPre) denseEncoderGrad(sae, g!, x, rows, dPre);
  aux *= auxScale * inv;
  return { loss: mse + penalty + aux, mse, penalty, aux, l0: nnz * inv, codes, recon };
}

/** Whether a batch's products go to the registered dense matMul (as the encoder's forward product). */
function useDense(sae: Sae, rows: number): boolean {
  return denseMatMul !== undefined && rows * sae.dIn * sae.dSae >= DENSE_MATMUL_MIN;
}

/**
 * The encoder gradient from dense dL/dpre D [rows x d_sae]: W_enc += (x - b_dec)^T D (one product),
 * b_enc += the column sums of D, b_dec -= W_enc (column sums of D) through sae_in = x - b_dec. The same
 * sums as addEncoderGrad, in another order.
 */
function denseEncoderGrad(sae: Sae, g: SaeGrads, x: Float32Array, rows: number, D: Float32Array): void {
  const { dIn, dSae, W_enc, b_dec } = sae;
  const xt = new Float32Array(dIn * rows);
  for (let r = 0; r < rows; r++) for (let i = 0; i < dIn; i++) xt[i * rows + r] = x[r * dIn + i]! - b_dec[i]!;
  const gw = denseMatMul!(xt, D, dIn, rows, dSae);
  for (let t = 0; t < gw.length; t++) g.W_enc[t] += gw[t]!;
  const col = new Float32Array(dSae);
  for (let r = 0; r < rows; r++) for (let j = 0; j < dSae; j++) col[j] += D[r * dSae + j]!;
  for (let j = 0; j < dSae; j++) g.b_enc[j] += col[j]!;
  for (let i = 0; i < dIn; i++) {
    let s = 0;
    for (let j = 0; j < dSae; j++) s += W_enc[i * dSae + j]! * col[j]!;
    g.b_dec[i] -= s;
  }
}

/** dL/dpre_j = d for one row: into W_enc's column j, b_enc[j], and b_dec through sae_in = x - b_dec. */
function addEncoderGrad(sae: Sae, g: SaeGrads, x: Float32Array, xo: number, j: number, d: number): void {
  if (d === 0) return;
  const { dIn, dSae, W_enc, b_dec } = sae;
  g.b_enc[j] += d;
  for (let i = 0; i < dIn; i++) {
    g.W_enc[i * dSae + j] += (x[xo + i]! - b_dec[i]!) * d;
    g.b_dec[i] -= W_enc[i * dSae + j]! * d;
  }
}

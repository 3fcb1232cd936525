/**
 * SAE evaluation on a store's rows (streamed chunk by chunk) and against known feature directions.
 *
 * Reconstruction and sparsity (SAELens evals.py names where they exist):
 *   l0                   mean active latents per row
 *   mse                  mean over rows of sum_d (x_d - x_hat_d)^2 (the training loss's MSE term)
 *   explained_variance   1 - sum_d Var(x_d - x_hat_d) / sum_d Var(x_d), variances over rows: the
 *                        conventional definition (dictionary_learning's frac_variance_explained). SAELens's
 *                        own "explained_variance" divides the uncentred E||x - x_hat||^2 instead; this reports
 *                        that too as explained_variance_saelens (equal when the residual has zero mean).
 *   cossim, l2_ratio     mean cos(x, x_hat) and mean ||x_hat|| / ||x|| over rows with ||x|| >= 1e-4 (SAELens
 *                        keeps such rows with a denominator of 1; toy stores are a third zero rows, which
 *                        would pull both towards 0 without saying anything about the SAE)
 *   relative_reconstruction_bias  E||x_hat||^2 / E<x, x_hat> (Wright & Sharkey; 1 = no shrinkage)
 *   dead / dense         latents firing on no row / on more than 10% of rows (feature density)
 *
 * Ground truth (toy models): true directions t_i (rows of the toy's W, features x d_in) against the
 * decoder rows d_j, both normalised: cos_ij. mmcs = mean_i max_j cos_ij (Sharkey et al. 2022);
 * hungarian = mean cos over the one-to-one matching of features to latents that maximises the sum
 * (the MCC-style score; munkres); above_0_9 = features whose best latent has cos > 0.9.
 */
import munkres from 'munkres';
import { preActivations, sparseCodes, decodeSparse, type Sae } from './model.ts';

export interface ReconMetrics {
  rows: number;
  l0: number;
  mse: number;
  explained_variance: number;
  explained_variance_saelens: number;
  cossim: number;
  l2_ratio: number;
  relative_reconstruction_bias: number;
  dead_latents: number;
  dense_latents: number;
  dead_fraction: number;
  /** Per latent: fraction of rows on which it fires. */
  density: number[];
}

/** Streams batches of rows (row-major [rows x d_in]) through the SAE and accumulates the metrics. */
export class ReconAccumulator {
  private n = 0;
  private nz = 0;
  private nnz = 0;
  private sse = 0;
  private cos = 0;
  private ratio = 0;
  private xhat2 = 0;
  private xdot = 0;
  private readonly sx: Float64Array;
  private readonly sxx: Float64Array;
  private readonly sr: Float64Array;
  private readonly srr: Float64Array;
  private readonly fires: Float64Array;

  constructor(readonly sae: Sae) {
    this.sx = new Float64Array(sae.dIn);
    this.sxx = new Float64Array(sae.dIn);
    this.sr = new Float64Array(sae.dIn);
    this.srr = new Float64Array(sae.dIn);
    this.fires = new Float64Array(sae.dSae);
  }

  /** Adds rows; returns their sparse codes and reconstructions for callers that need them. */
  add(x: Float32Array, rows: number): { recon: Float32Array; codes: ReturnType<typeof sparseCodes> } {
    const { sae } = this;
    const d = sae.dIn;
    const codes = sparseCodes(sae, preActivations(sae, x, rows), rows);
    const recon = new Float32Array(rows * d);
    decodeSparse(sae, rows, codes.start, codes.idx, codes.val, recon);
    for (let t = 0; t < codes.idx.length; t++) this.fires[codes.idx[t]!]++;
    this.nnz += codes.idx.length;
    for (let r = 0; r < rows; r++) {
      let xx = 0, hh = 0, xh = 0;
      for (let i = 0; i < d; i++) {
        const xv = x[r * d + i]!, hv = recon[r * d + i]!, e = xv - hv;
        this.sx[i] += xv; this.sxx[i] += xv * xv; this.sr[i] += e; this.srr[i] += e * e;
        this.sse += e * e;
        xx += xv * xv; hh += hv * hv; xh += xv * hv;
      }
      const nx = Math.sqrt(xx), nh = Math.sqrt(hh);
      // Rows with x ~ 0 (a toy sample with no active feature) have no direction: left out of cossim and l2_ratio.
      if (nx >= 1e-4) {
        this.nz++;
        this.cos += nh > 0 ? xh / (nx * nh) : 0;
        this.ratio += nh / nx;
      }
      this.xhat2 += hh;
      this.xdot += xh;
    }
    this.n += rows;
    return { recon, codes };
  }

  /** The inputs' mean per dimension (the mean-ablation value). */
  inputMean(): Float32Array {
    return Float32Array.from(this.sx, (v) => v / this.n);
  }

  result(): ReconMetrics {
    const n = this.n;
    let varX = 0, varR = 0;
    for (let i = 0; i < this.sae.dIn; i++) {
      varX += this.sxx[i]! / n - (this.sx[i]! / n) ** 2;
      varR += this.srr[i]! / n - (this.sr[i]! / n) ** 2;
    }
    const density = [...this.fires].map((f) => f / n);
    const dead = density.filter((p) => p === 0).length;
    return {
      rows: n,
      l0: this.nnz / n,
      mse: this.sse / n,
      explained_variance: 1 - varR / varX,
      explained_variance_saelens: 1 - this.sse / n / varX,
      cossim: this.cos / this.nz,
      l2_ratio: this.ratio / this.nz,
      relative_reconstruction_bias: this.xhat2 / this.xdot,
      dead_latents: dead,
      dense_latents: density.filter((p) => p > 0.1).length,
      dead_fraction: dead / this.sae.dSae,
      density,
    };
  }
}

export interface TruthFeature {
  feature: number;
  importance: number;
  norm: number;
  max_cos: number;
  best_latent: number;
  matched_latent: number;
  matched_cos: number;
}

export interface TruthMetrics {
  features: number;
  mmcs: number;
  /** MMCS over the features the toy represents (||W_i|| >= the toy's representation norm). */
  mmcs_represented: number;
  represented: number;
  hungarian: number;
  above_0_9: number;
  /** The smallest max cos among features with importance above the median (1 when none). */
  above_median_min_cos: number;
  above_median_features: number;
  per_feature: TruthFeature[];
}

/**
 * Compares true directions (n x d, row-major; zero rows allowed) with the SAE's decoder rows.
 * `importance` (length n) ranks features for the above-median check; `representedNorm` marks
 * the features the toy keeps.
 */
export function truthMetrics(truth: Float32Array | number[][], n: number, sae: Sae, importance: ArrayLike<number>, representedNorm = 0.5): TruthMetrics {
  const d = sae.dIn, m = sae.dSae;
  const T = Array.isArray(truth) ? Float64Array.from(truth.flat()) : Float64Array.from(truth);
  const norms = Array.from({ length: n }, (_, i) => Math.hypot(...T.subarray(i * d, i * d + d)));
  const dn = Array.from({ length: m }, (_, j) => Math.hypot(...sae.W_dec.subarray(j * d, j * d + d)));
  const cos: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += T[i * d + k]! * sae.W_dec[j * d + k]!;
      row.push(norms[i]! > 0 && dn[j]! > 0 ? s / (norms[i]! * dn[j]!) : 0);
    }
    cos.push(row);
  }
  const best = cos.map((row) => row.reduce((b, v, j) => (v > row[b]! ? j : b), 0));
  const maxCos = cos.map((row, i) => row[best[i]!]!);
  // Hungarian matching on cost 1 - cos (munkres minimises; rectangular n x m is allowed).
  const pairs = munkres(cos.map((row) => row.map((v) => 1 - v)));
  const matched = new Array<number>(n).fill(-1);
  for (const [i, j] of pairs) matched[i] = j;
  const matchedCos = matched.map((j, i) => (j >= 0 ? cos[i]![j]! : 0));
  const imp = Array.from(importance);
  const sorted = [...imp].sort((a, b) => a - b);
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  const above = imp.map((v, i) => (v > median ? i : -1)).filter((i) => i >= 0);
  const rep = norms.map((v, i) => (v >= representedNorm ? i : -1)).filter((i) => i >= 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return {
    features: n,
    mmcs: mean(maxCos),
    mmcs_represented: mean(rep.map((i) => maxCos[i]!)),
    represented: rep.length,
    hungarian: mean(matchedCos),
    above_0_9: maxCos.filter((c) => c > 0.9).length,
    above_median_min_cos: above.length ? Math.min(...above.map((i) => maxCos[i]!)) : 1,
    above_median_features: above.length,
    per_feature: maxCos.map((c, i) => ({
      feature: i, importance: imp[i]!, norm: norms[i]!, max_cos: c, best_latent: best[i]!, matched_latent: matched[i]!, matched_cos: matchedCos[i]!,
    })),
  };
}

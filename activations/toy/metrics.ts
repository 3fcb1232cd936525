/**
 * Superposition metrics of a weight matrix W (features x hidden; row i is feature i's direction).
 *
 * - norm_i = ||W_i||
 * - interference_i = sum_{j != i} (W^_i . W_j)^2
 * - dimensionality D_i = ||W_i||^2 / sum_j (W^_i . W_j)^2  (Elhage et al. 2022)
 * - capacity C_i = (W_i . W_i)^2 / sum_j (W_i . W_j)^2     (Scherlis et al. 2022)
 *
 * Multiplying D_i's numerator and denominator by ||W_i||^2 gives C_i: the two are the same number,
 * reached from two papers. Both are reported because both names are in use. A feature with zero norm
 * gets 0 for both (it is not represented), never NaN. sum_i C_i <= m (Scherlis et al.).
 */
export interface FeatureMetrics {
  norms: number[];
  interference: number[];
  dimensionality: number[];
  capacity: number[];
  total_capacity: number;
  /** m / ||W||_F^2; Infinity when W is all zero. */
  dims_per_feature: number;
}

/** Below this squared norm a feature counts as absent (float32 weights decay to ~1e-20, not 0). */
export const ZERO_NORM2 = 1e-12;

export function gram(W: number[][]): number[][] {
  const n = W.length;
  const G: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      const a = W[i]!;
      const b = W[j]!;
      for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
      G[i]![j] = s;
      G[j]![i] = s;
    }
  }
  return G;
}

export function featureMetrics(W: number[][]): FeatureMetrics {
  const n = W.length;
  const m = n > 0 ? W[0]!.length : 0;
  const G = gram(W);
  const norms: number[] = [];
  const interference: number[] = [];
  const dimensionality: number[] = [];
  const capacity: number[] = [];
  let frob = 0;
  for (let i = 0; i < n; i++) {
    const n2 = G[i]![i]!;
    frob += n2;
    norms.push(Math.sqrt(n2));
    if (n2 <= ZERO_NORM2) {
      interference.push(0);
      dimensionality.push(0);
      capacity.push(0);
      continue;
    }
    let sumSq = 0; // sum_j (W_i . W_j)^2, j = i included
    for (let j = 0; j < n; j++) sumSq += G[i]![j]! * G[i]![j]!;
    interference.push((sumSq - n2 * n2) / n2);
    capacity.push((n2 * n2) / sumSq);
    dimensionality.push(n2 / (sumSq / n2));
  }
  return {
    norms,
    interference,
    dimensionality,
    capacity,
    total_capacity: capacity.reduce((a, b) => a + b, 0),
    dims_per_feature: frob > 0 ? m / frob : Infinity,
  };
}

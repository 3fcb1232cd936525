/** Small dense symmetric solves for the (k+1) x (k+1) Newton systems (k <= 256). */

/**
 * Solves A x = b for symmetric positive definite A (row-major, m x m) by Cholesky. When A is not
 * numerically positive definite (separable data drives weights to 0), it retries with a growing ridge
 * added to the diagonal (Levenberg style), which still gives a descent direction.
 * Returns x, or null if even the ridged systems fail (never seen for a ridged logistic Hessian).
 */
export function solveSpd(A: Float64Array, b: Float64Array, m: number): Float64Array | null {
  let maxDiag = 0;
  for (let i = 0; i < m; i++) maxDiag = Math.max(maxDiag, Math.abs(A[i * m + i]!));
  const L = new Float64Array(m * m);
  let ridge = 0;
  for (let attempt = 0; attempt < 12; attempt++) {
    if (cholesky(A, L, m, ridge)) return cholSolve(L, b, m);
    ridge = ridge === 0 ? Math.max(1e-12 * maxDiag, 1e-300) : ridge * 100;
  }
  return null;
}

/** Lower Cholesky factor of A + ridge*I into L; false when a pivot is not positive. */
export function cholesky(A: Float64Array, L: Float64Array, m: number, ridge = 0): boolean {
  for (let i = 0; i < m; i++) {
    const ri = i * m;
    for (let j = 0; j <= i; j++) {
      const rj = j * m;
      let s = A[ri + j]!;
      if (i === j) s += ridge;
      for (let p = 0; p < j; p++) s -= L[ri + p]! * L[rj + p]!;
      if (i === j) {
        if (!(s > 0)) return false;
        L[ri + i] = Math.sqrt(s);
      } else {
        L[ri + j] = s / L[rj + j]!;
      }
    }
  }
  return true;
}

export function cholSolve(L: Float64Array, b: Float64Array, m: number): Float64Array {
  const x = new Float64Array(b);
  for (let i = 0; i < m; i++) {
    let s = x[i]!;
    const ri = i * m;
    for (let p = 0; p < i; p++) s -= L[ri + p]! * x[p]!;
    x[i] = s / L[ri + i]!;
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let p = i + 1; p < m; p++) s -= L[p * m + i]! * x[p]!;
    x[i] = s / L[i * m + i]!;
  }
  return x;
}

/**
 * Inverse of a symmetric positive definite matrix (row-major m x m) from its Cholesky factor, with the
 * same growing-ridge fallback as solveSpd. Returns null if every attempt fails.
 */
export function invertSpd(A: Float64Array, m: number): Float64Array | null {
  let maxDiag = 0;
  for (let i = 0; i < m; i++) maxDiag = Math.max(maxDiag, Math.abs(A[i * m + i]!));
  const L = new Float64Array(m * m);
  let ridge = 0;
  let ok = false;
  for (let attempt = 0; attempt < 12 && !ok; attempt++) {
    ok = cholesky(A, L, m, ridge);
    if (!ok) ridge = ridge === 0 ? Math.max(1e-12 * maxDiag, 1e-300) : ridge * 100;
  }
  if (!ok) return null;
  // M = L^-1 (lower triangular), then A^-1 = M^T M. M is kept transposed (MT[c][p] = M[p][c]) so both
  // inner loops run along contiguous rows (the column-wise loops over M strided by m, which at m = 257
  // cost more than the factorisation); the sums are the same terms in the same order.
  const MT = new Float64Array(m * m);
  for (let c = 0; c < m; c++) {
    const rc = c * m;
    MT[rc + c] = 1 / L[rc + c]!;
    for (let i = c + 1; i < m; i++) {
      let s = 0;
      const ri = i * m;
      for (let p = c; p < i; p++) s -= L[ri + p]! * MT[rc + p]!;
      MT[rc + i] = s / L[ri + i]!;
    }
  }
  const inv = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const ri = i * m;
    for (let j = 0; j <= i; j++) {
      let s = 0;
      const rj = j * m;
      for (let p = i; p < m; p++) s += MT[ri + p]! * MT[rj + p]!;
      inv[ri + j] = s;
      inv[rj + i] = s;
    }
  }
  return inv;
}

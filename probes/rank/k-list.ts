/** The reference work's k grid: 1..8, 10, 12, then powers of two from 16. */
export const STANDARD_KS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 32, 64, 128, 256];

/** Standard ks up to maxK, with maxK itself included, descending (the order telescoping methods use). */
export function chainKs(maxK: number): number[] {
  const ks = STANDARD_KS.filter((k) => k <= maxK);
  if (ks[ks.length - 1] !== maxK) ks.push(maxK);
  return ks.reverse();
}

/** The order implied by per-k supports: supportFor(1), then what supportFor(2) adds, ... then the rest by `fallback`. */
export function orderFromSupports(supportFor: (k: number) => number[], maxK: number, fallback: Int32Array): Int32Array {
  const seen = new Set<number>();
  const out: number[] = [];
  for (let k = 1; k <= maxK; k++) {
    for (const j of supportFor(k)) {
      if (!seen.has(j)) {
        seen.add(j);
        out.push(j);
      }
    }
  }
  for (const j of fallback) if (!seen.has(j)) out.push(j);
  return Int32Array.from(out);
}

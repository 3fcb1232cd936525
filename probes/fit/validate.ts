/**
 * Input checks shared by ranking and fitting. They name the offending row, column or argument, so a
 * user can find the bad activation or label in their store.
 */
import { InputError, UsageError } from '../../lab/core/index.ts';
import type { Matrix } from '../types.ts';

/** Shape of X, length and values of y, both classes present. Returns the positive count. */
export function checkXy(X: Matrix, y: Uint8Array, what = 'activations'): number {
  if (!Number.isInteger(X.nRows) || !Number.isInteger(X.nCols) || X.nRows < 0 || X.nCols < 0) {
    throw new InputError(`${what}: bad shape [${X.nRows} x ${X.nCols}]`);
  }
  if (X.data.length !== X.nRows * X.nCols) {
    throw new InputError(`${what}: data holds ${X.data.length} values, shape [${X.nRows} x ${X.nCols}] needs ${X.nRows * X.nCols}`);
  }
  if (y.length !== X.nRows) {
    throw new InputError(`labels and ${what} differ in length: ${y.length} labels for ${X.nRows} rows`);
  }
  let pos = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (v > 1) throw new InputError(`labels: row ${i} holds ${v}; labels must be 0 or 1`);
    pos += v;
  }
  if (pos === 0 || pos === y.length) {
    throw new InputError(`labels: only one class present (${pos} positive of ${y.length} rows); a probe needs both`);
  }
  return pos;
}

/** Throws naming the first non-finite cell of column `col` (call after a column sum came out non-finite). */
export function throwNonFinite(X: Matrix, col: number, what = 'activations'): never {
  const { data, nRows, nCols } = X;
  for (let i = 0; i < nRows; i++) {
    const v = data[i * nCols + col]!;
    if (!Number.isFinite(v)) throw new InputError(`${what}: ${v} at row ${i}, column (neuron) ${col}`);
  }
  throw new InputError(`${what}: column (neuron) ${col} overflows when summed`);
}

/** Scans the whole matrix (one pass) and throws at the first NaN or infinity. */
export function checkFinite(X: Matrix, what = 'activations'): void {
  const { data, nCols } = X;
  for (let p = 0; p < data.length; p++) {
    if (!Number.isFinite(data[p]!)) {
      throw new InputError(`${what}: ${data[p]} at row ${Math.floor(p / nCols)}, column (neuron) ${p % nCols}`);
    }
  }
}

export function checkNeurons(neurons: readonly number[], nCols: number, arg = 'neurons'): void {
  if (neurons.length > nCols) {
    throw new UsageError(`k = ${neurons.length} is larger than the number of neurons (${nCols})`, arg);
  }
  const seen = new Set<number>();
  for (const j of neurons) {
    if (!Number.isInteger(j) || j < 0 || j >= nCols) {
      throw new UsageError(`${arg}: neuron index ${j} out of range [0, ${nCols})`, arg);
    }
    if (seen.has(j)) throw new UsageError(`${arg}: neuron ${j} listed twice`, arg);
    seen.add(j);
  }
}

export function checkK(k: number, nCols: number, arg = 'k'): void {
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`${arg} must be a positive integer, got ${k}`, arg);
  if (k > nCols) throw new UsageError(`k = ${k} is larger than the number of neurons (${nCols})`, arg);
}

/**
 * Is the neuron basis privileged? For each feature, the best single-direction probe F1 in the neuron
 * basis is set against the same in random orthonormal bases of the layer (Haar-random rotations: QR of
 * a Gaussian matrix with R's diagonal positive). A layer whose features line up with its
 * neurons scores far higher in the neuron basis; a rotation-invariant code scores about the same.
 *
 * "Best single direction" is chosen the same way in every basis, on the train split only: the top
 * CANDIDATES (4) directions by f-statistic (scale-free, so rotated directions compete fairly), a 1-sparse
 * probe fitted on each, the one with the best train F1 kept; its test F1 is reported.
 */
import { tf } from '../lab/core/backend.ts';
import { Rng } from '../lab/core/index.ts';
import type { ProbeEngine } from './sweep.ts';
import type { FitOptions, Matrix } from './types.ts';
import { takeRows } from './split.ts';

export const CANDIDATES = 4;

/**
 * A d x d Haar-random orthogonal matrix, row-major: modified Gram-Schmidt on the rows of a Gaussian
 * matrix, which is its QR factorisation with R's diagonal positive, so the result is Haar-distributed.
 * Written out because tf.linalg.qr loops over columns in tfjs ops: measured here 3.4 s at d = 128 and
 * 5.5 s at d = 256 (wasm, loaded machine), against 2 d^3 flops in plain loops.
 */
export function randomRotation(d: number, rng: Rng): Float32Array {
  const q = new Float64Array(d * d);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let i = 0; i < d; i++) {
    const vi = i * d;
    for (let j = 0; j < i; j++) {
      const vj = j * d;
      let dot = 0;
      for (let t = 0; t < d; t++) dot += q[vi + t]! * q[vj + t]!;
      for (let t = 0; t < d; t++) q[vi + t] -= dot * q[vj + t]!;
    }
    let norm = 0;
    for (let t = 0; t < d; t++) norm += q[vi + t]! * q[vi + t]!;
    norm = Math.sqrt(norm);
    for (let t = 0; t < d; t++) q[vi + t] /= norm;
  }
  return Float32Array.from(q);
}

export function rotate(X: Matrix, Q: Float32Array): Matrix {
  const d = X.nCols;
  // tidy returns the tensor, not its data: tidy walks whatever it returns element by element, which on a
  // multi-million-entry Float32Array cost tens of seconds.
  const product = tf.tidy(() => tf.matMul(tf.tensor2d(X.data, [X.nRows, d]), tf.tensor2d(Q, [d, d])));
  const data = product.dataSync() as Float32Array;
  product.dispose();
  return { data, nRows: X.nRows, nCols: d };
}

export interface SingleDirection {
  direction: number;
  f1_train: number;
  f1_test: number;
}

/** The best single direction of a basis for one feature (see the header for how it is chosen). */
export function bestSingleDirection(
  engine: ProbeEngine, Xtr: Matrix, ytr: Uint8Array, Xte: Matrix, yte: Uint8Array, fit: FitOptions, seed: number,
): SingleDirection {
  const rank = engine.rank(Xtr, ytr, 'f_stat', { ks: [1], seed });
  const cands = Array.from(rank.order.subarray(0, Math.min(CANDIDATES, Xtr.nCols)));
  const fits = cands.map((c) => engine.fit(Xtr, ytr, [[c]], fit)[0]!);
  let best = 0;
  let bestF1 = -1;
  fits.forEach((f, i) => {
    const f1 = f1Score(ytr, engine.scores(Xtr, f));
    if (f1 > bestF1) {
      bestF1 = f1;
      best = i;
    }
  });
  return { direction: cands[best]!, f1_train: bestF1, f1_test: engine.metrics(yte, engine.scores(Xte, fits[best]!)).f1 };
}

/** F1 at the probes' 0.5 threshold; the selection needs no AUCs, so no sort. */
function f1Score(y: Uint8Array, p: Float64Array): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < y.length; i++) {
    const pos = p[i]! > 0.5;
    if (y[i]) pos ? tp++ : fn++;
    else if (pos) fp++;
  }
  return 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
}

export interface PrivilegedRow {
  feature: string;
  hook: string;
  neuron_f1: number;
  neuron: number;
  rotated_f1_mean: number;
  rotated_f1_max: number;
  /** neuron_f1 minus the mean rotated F1: > 0 means the neuron basis is privileged for this feature. */
  privilege: number;
  rotations: number;
}

/** Rows `at` (positions) of X, or X itself when every row counts. */
function rowsOf(X: Matrix, at: Int32Array | undefined): Matrix {
  return at ? { data: takeRows(X.data, X.nCols, at), nRows: at.length, nCols: X.nCols } : X;
}

/**
 * Compares the neuron basis with `rotations` random bases for each feature. The rotated train and test
 * matrices are computed once per rotation and shared by all features of the hook; a feature with
 * `tr`/`te` (a contrast probe run's rows, positions in Xtr and Xte) is scored on those rows only.
 */
export function privilegedBasis(
  engine: ProbeEngine,
  hook: string,
  Xtr: Matrix, Xte: Matrix,
  labels: Record<string, { ytr: Uint8Array; yte: Uint8Array; tr?: Int32Array; te?: Int32Array }>,
  opts: { rotations: number; seed: number; fit: FitOptions },
): PrivilegedRow[] {
  const features = Object.keys(labels);
  const best = (Rtr: Matrix, Rte: Matrix, f: string) => {
    const l = labels[f]!;
    return bestSingleDirection(engine, rowsOf(Rtr, l.tr), l.ytr, rowsOf(Rte, l.te), l.yte, opts.fit, opts.seed);
  };
  const neuron = features.map((f) => best(Xtr, Xte, f));
  const rotated: number[][] = features.map(() => []);
  const rng = new Rng(opts.seed ^ 0x5eed);
  for (let r = 0; r < opts.rotations; r++) {
    const Q = randomRotation(Xtr.nCols, rng);
    const Rtr = rotate(Xtr, Q);
    const Rte = rotate(Xte, Q);
    features.forEach((f, i) => {
      rotated[i]!.push(best(Rtr, Rte, f).f1_test);
    });
  }
  return features.map((f, i) => {
    const rs = rotated[i]!;
    const mean = rs.length ? rs.reduce((a, b) => a + b, 0) / rs.length : NaN;
    return {
      feature: f, hook, neuron_f1: neuron[i]!.f1_test, neuron: neuron[i]!.direction,
      rotated_f1_mean: mean, rotated_f1_max: rs.length ? Math.max(...rs) : NaN,
      privilege: neuron[i]!.f1_test - mean, rotations: rs.length,
    };
  });
}

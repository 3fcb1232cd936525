/**
 * `--fitter ml`: ml-logistic-regression as a slow, independent reference. Its quirks, and what this
 * wrapper does about them:
 * - no intercept: a constant column is appended and its weight read back as the intercept;
 * - one-vs-all where classifier c scores P(not c): the class-1 classifier's weights are negated;
 * - plain full-batch gradient ascent on the summed likelihood: the step is 4 / trace(X^T X), which is
 *   below 2 / L for the likelihood's curvature bound L = lambda_max(X^T X) / 4, so it cannot diverge;
 * - no L2 penalty and no class weights: it fits the unweighted maximum-likelihood model, then the
 *   intercept is shifted by log(n_neg / n_pos) (prior correction, King & Zeng 2001) to stand in for
 *   balanced weights. Coefficients therefore differ from the Newton fitter's; decisions are close
 *   when the classes are well separated.
 */
import { createRequire } from 'node:module';
import type LogisticRegressionClass from 'ml-logistic-regression';
import type { Matrix as MlMatrixClass } from 'ml-matrix';
import type { Columns } from './gather.ts';

// Loaded on first use: ml-matrix alone costs about 0.15 s of start-up, and only `--fitter ml` needs it, so
// the ranking registry (which `lab probe --help` reads) does not pay for it.
let ml: { LogisticRegression: typeof LogisticRegressionClass; MlMatrix: typeof MlMatrixClass } | undefined;
function mlPackages(): NonNullable<typeof ml> {
  const require = createRequire(import.meta.url);
  ml ??= {
    LogisticRegression: require('ml-logistic-regression') as typeof LogisticRegressionClass,
    MlMatrix: (require('ml-matrix') as { Matrix: typeof MlMatrixClass }).Matrix,
  };
  return ml;
}

export interface MlFitResult {
  coef: Float64Array;
  intercept: number;
  iterations: number;
}

export function fitMl(cols: Columns, y: Uint8Array, numSteps: number, balanced: boolean): MlFitResult {
  const { LogisticRegression, MlMatrix } = mlPackages();
  const { z, n, k } = cols;
  const rows: number[][] = new Array(n);
  let trace = n; // the constant column contributes n
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) trace += z[j * n + i]! ** 2;
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(k + 1);
    for (let j = 0; j < k; j++) row[j] = z[j * n + i]!;
    row[k] = 1;
    rows[i] = row;
  }
  const X = new MlMatrix(rows);
  const Y = MlMatrix.columnVector(Array.from(y));
  const lr = new LogisticRegression({ numSteps, learningRate: 4 / trace });
  lr.train(X, Y);
  const w = lr.classifiers[1]!.weights.to1DArray();
  const coef = new Float64Array(k);
  for (let j = 0; j < k; j++) coef[j] = -w[j]!;
  let intercept = -w[k]!;
  if (balanced) {
    let pos = 0;
    for (let i = 0; i < n; i++) pos += y[i]!;
    intercept += Math.log((n - pos) / pos);
  }
  return { coef, intercept, iterations: numSteps };
}

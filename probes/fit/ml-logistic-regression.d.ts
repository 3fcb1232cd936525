// ml-logistic-regression 2.0 ships no type declarations; this covers the part the reference fitter uses.
declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';
  export default class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number });
    classifiers: { weights: Matrix; testScores(features: Matrix): number[] }[];
    train(X: Matrix, Y: Matrix): void;
    predict(X: Matrix): number[];
  }
}

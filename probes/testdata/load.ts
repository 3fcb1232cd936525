/** Loads the scikit-learn reference set written by probes/peers/sklearn_reference.py. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Matrix, Metrics } from '../types.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface SklearnFit {
  neurons: number[];
  coef: number[];
  intercept: number;
  test: Metrics;
  saga_max_iter_200_test_f1: number;
}

export interface SklearnRef {
  command: string;
  n_rows: number;
  n_cols: number;
  n_train: number;
  mean_dif: number[];
  mean_dif_order: number[];
  f_stat: number[];
  f_stat_order: number[];
  mutual_info: number[];
  mutual_info_order: number[];
  fits: SklearnFit[];
  tied_scores: number[];
  tied_metrics: Metrics;
}

export function loadSklearnRef(): { ref: SklearnRef; X: Matrix; y: Uint8Array; train: { X: Matrix; y: Uint8Array }; test: { X: Matrix; y: Uint8Array } } {
  const ref = JSON.parse(readFileSync(join(here, 'sklearn_ref.json'), 'utf8')) as SklearnRef;
  const buf = readFileSync(join(here, 'sklearn_ref_x.f32'));
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const y = new Uint8Array(readFileSync(join(here, 'sklearn_ref_y.u8')));
  const { n_rows: n, n_cols: d, n_train: nt } = ref;
  const X: Matrix = { data, nRows: n, nCols: d };
  return {
    ref,
    X,
    y,
    train: { X: { data: data.subarray(0, nt * d), nRows: nt, nCols: d }, y: y.subarray(0, nt) },
    test: { X: { data: data.subarray(nt * d), nRows: n - nt, nCols: d }, y: y.subarray(nt) },
  };
}

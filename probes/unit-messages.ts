/** What probes/unit-pool.ts and its worker threads (probes/unit-worker.ts) say to each other. */
import type { SweepRow } from './unit.ts';
import type { FitOptions } from './types.ts';
import type { RankMethod } from './rank/index.ts';

export interface UnitCounts {
  n_train: number;
  n_test: number;
  n_pos_train: number;
  n_pos_test: number;
}

export interface UnitJob {
  feature: string;
  method: RankMethod;
  ks: number[];
  seed: number;
  fit: FitOptions;
  ytr: Uint8Array;
  yte: Uint8Array;
  counts: UnitCounts;
  /** A contrast unit's rows: positions in the hook's train and test matrices (probes/contrast.ts). */
  rowsTr?: Int32Array;
  rowsTe?: Int32Array;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'rows'; id: number; rows: SweepRow[] }
  | { type: 'done'; id: number }
  | { type: 'error'; id: number; message: string; stack?: string };

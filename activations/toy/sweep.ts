/**
 * Phase diagrams (Elhage et al. 2022, "Superposition as a phase change"): over a grid of feature
 * probability x relative importance, which regime the last feature ends up in. Feature n-1 has
 * importance r and every other feature importance 1; all features share the feature probability.
 * Each cell trains `restarts` times from different seeds and keeps the restart with the lowest loss on
 * one evaluation set shared by the restarts (training is non-convex; a single run can stall in a worse
 * regime).
 *
 * Phase of the last feature (thresholds as in geometry.ts):
 *  - 'not_represented': ||W_{n-1}|| < REPRESENTED_NORM
 *  - 'dedicated':       represented and D_{n-1} >= 0.9 (it has a dimension to itself)
 *  - 'superposition':   represented and D_{n-1} < 0.9 (it shares dimensions, e.g. an antipodal pair)
 */
import { UsageError } from '../../lab/core/index.ts';
import { Rng } from '../../lab/core/index.ts';
import { hasNeurons, resolveConfig, type ToyConfig } from './config.ts';
import { evalLoss, instanceSeed } from './engine-js.ts';
import { trainJsParallel } from './engine-pool.ts';
import { featureGeometry, geometrySummary, REPRESENTED_NORM } from './geometry.ts';
import { namedWeights } from './layout.ts';
import { featureMetrics } from './metrics.ts';
import { jobFor, specOf, EVAL_ROWS } from './train.ts';

export const DEDICATED_D = 0.9;

export type Phase = 'not_represented' | 'dedicated' | 'superposition';

export interface SweepConfig {
  base: Omit<ToyConfig, 'instances' | 'feature_prob' | 'importance' | 'importance_decay' | 'engine'>;
  probs: number[];
  relative_importance: number[];
  restarts: number;
}

export interface PhaseRow {
  feature_prob: number;
  relative_importance: number;
  phase: Phase;
  loss: number;
  best_restart: number;
  norm_last: number;
  dimensionality_last: number;
  total_capacity: number;
  dims_per_feature: number;
  shape: string;
}

export function phaseOf(norm: number, d: number): Phase {
  if (norm < REPRESENTED_NORM) return 'not_represented';
  return d >= DEDICATED_D ? 'dedicated' : 'superposition';
}

/** Geometric grid from a to b with k points (inclusive). */
export function geomGrid(a: number, b: number, k: number): number[] {
  if (k === 1) return [a];
  return Array.from({ length: k }, (_, i) => (i === k - 1 ? b : a * Math.pow(b / a, i / (k - 1))));
}

export async function sweepToy(sc: SweepConfig, onProgress?: (done: number, total: number) => void): Promise<PhaseRow[]> {
  if (sc.probs.some((p) => !(p > 0 && p <= 1))) throw new UsageError('--probs must lie in (0, 1]', 'probs');
  if (sc.relative_importance.some((r) => !(r >= 0) || !Number.isFinite(r))) {
    throw new UsageError('--relative-importance values must be numbers >= 0', 'relative-importance');
  }
  if (!Number.isInteger(sc.restarts) || sc.restarts < 1) throw new UsageError('--restarts must be a whole number >= 1', 'restarts');
  if (sc.base.features < 2) throw new UsageError('--features must be >= 2 for a phase diagram (feature n-1 is the varied one)', 'features');
  if (hasNeurons(sc.base.model)) throw new UsageError('--model: phase diagrams are defined for linear and relu-out', 'model');
  const rows: PhaseRow[] = [];
  const total = sc.relative_importance.length * sc.base.steps;
  let doneR = 0;
  for (const r of sc.relative_importance) {
    const config = resolveConfig({ ...sc.base, instances: 1, feature_prob: 1, engine: 'js' });
    const spec = specOf(config);
    const importance = Float32Array.from({ length: config.features }, (_, i) => (i === config.features - 1 ? r : 1));
    // Instance index = cell * restarts + restart, so every restart has its own init and data streams.
    const probs = sc.probs.flatMap((p) => new Array<number>(sc.restarts).fill(p));
    const job = jobFor(config, importance, probs);
    const results = await trainJsParallel(job, config.workers, (d) => onProgress?.(doneR * config.steps + d, total));
    doneR++;
    sc.probs.forEach((p, cell) => {
      let best = -1;
      let bestLoss = Infinity;
      for (let k = 0; k < sc.restarts; k++) {
        const params = results[cell * sc.restarts + k]!.params;
        const l = evalLoss(spec, params, p, importance, EVAL_ROWS, new Rng(instanceSeed(config.seed, cell, 2)));
        if (l < bestLoss) {
          bestLoss = l;
          best = k;
        }
      }
      const W = namedWeights(spec, results[cell * sc.restarts + best]!.params).W;
      const met = featureMetrics(W);
      const last = config.features - 1;
      rows.push({
        feature_prob: p,
        relative_importance: r,
        phase: phaseOf(met.norms[last]!, met.dimensionality[last]!),
        loss: bestLoss,
        best_restart: best,
        norm_last: met.norms[last]!,
        dimensionality_last: met.dimensionality[last]!,
        total_capacity: met.total_capacity,
        dims_per_feature: met.dims_per_feature,
        shape: geometrySummary(featureGeometry(W)),
      });
    });
  }
  return rows;
}

export function phaseCsv(rows: PhaseRow[]): string {
  const cols: (keyof PhaseRow)[] = ['feature_prob', 'relative_importance', 'phase', 'loss', 'best_restart', 'norm_last', 'dimensionality_last', 'total_capacity', 'dims_per_feature', 'shape'];
  const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isFinite(v) ? String(+v.toPrecision(7)) : '') : `"${String(v)}"`);
  return [cols.join(','), ...rows.map((r) => cols.map((c) => fmt(r[c])).join(','))].join('\n') + '\n';
}

/** The diagram as text: one line per relative importance (largest on top), one character per feature probability. */
export function phaseMap(rows: PhaseRow[]): string {
  const probs = [...new Set(rows.map((r) => r.feature_prob))].sort((a, b) => b - a);
  const rel = [...new Set(rows.map((r) => r.relative_importance))].sort((a, b) => b - a);
  const ch: Record<Phase, string> = { not_represented: '.', dedicated: 'D', superposition: 'S' };
  const lines = ['relative importance of the last feature (rows) x feature probability (columns, dense -> sparse)'];
  lines.push('           ' + probs.map((p) => p.toPrecision(2).padStart(7)).join(''));
  for (const r of rel) {
    const cells = probs.map((p) => ch[rows.find((x) => x.feature_prob === p && x.relative_importance === r)!.phase].padStart(7));
    lines.push(r.toPrecision(3).padStart(10) + ' ' + cells.join(''));
  }
  lines.push("legend: '.' last feature not represented, 'D' dedicated dimension, 'S' in superposition");
  return lines.join('\n');
}

/**
 * The phase diagram of a toy sweep (Elhage et al., "Phase change"): over sparsity x relative importance,
 * which phase each cell's lowest-loss model lands in (the extra feature ignored, represented in a
 * dimension of its own, or stored in superposition). One rect per cell.
 */
import type { ColumnTable } from 'arquero';
import { InputError } from '../../lab/core/index.ts';
import { rowsOf, type ChartSpec } from './render.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

export interface PhaseOptions {
  x?: string;
  y?: string;
  color?: string;
  source?: string;
}

const TITLES: Record<string, string> = {
  feature_prob: 'feature probability 1-S',
  sparsity: 'sparsity S',
  relative_importance: 'rel. importance',
};

const X_CANDIDATES = ['sparsity', 'S', 'inv_density', 'feature_prob', 'density'];
const Y_CANDIDATES = ['relative_importance', 'importance_ratio', 'importance', 'rel_importance'];
const COLOR_CANDIDATES = ['phase', 'outcome', 'regime', 'label', 'norm', 'norm_extra', 'superposition'];

function pick(cols: string[], wanted: string | undefined, candidates: string[], what: string, source: string): string {
  if (wanted !== undefined) {
    if (!cols.includes(wanted)) throw new InputError(`${source} has no column '${wanted}' (columns: ${cols.join(', ')})`, source);
    return wanted;
  }
  const found = candidates.find((c) => cols.includes(c));
  if (!found) throw new InputError(`${source} has no ${what} column (looked for ${candidates.join(', ')}; has ${cols.join(', ')})`, source);
  return found;
}

/** Which columns a phase table's chart uses; exported so the report can say so. */
export function phaseColumns(phase: ColumnTable, opts: PhaseOptions = {}): { x: string; y: string; color: string } {
  const cols = phase.columnNames();
  const source = opts.source ?? 'phase table';
  return {
    x: pick(cols, opts.x, X_CANDIDATES, 'sparsity', source),
    y: pick(cols, opts.y, Y_CANDIDATES, 'relative-importance', source),
    color: pick(cols, opts.color, COLOR_CANDIDATES, 'phase', source),
  };
}

export function phaseChart(phase: ColumnTable, opts: PhaseOptions = {}): ChartSpec {
  const { x, y, color } = phaseColumns(phase, opts);
  const values = rowsOf(phase);
  const nominal = values.some((r) => typeof r[color] === 'string');
  // activations/toy's phases in a fixed order and colour, so diagrams from different sweeps compare at a glance.
  const known = ['not_represented', 'dedicated', 'superposition'];
  const fixed = nominal && values.every((r) => known.includes(String(r[color])));
  // Dense on the left, sparse on the right, whichever way the table measures sparsity.
  const xSort = x === 'feature_prob' || x === 'density' ? 'descending' : 'ascending';
  return {
    $schema: SCHEMA,
    title: 'Phase diagram',
    data: { values },
    config: { axis: { grid: false } },
    mark: 'rect',
    name: 'phase_cells',
    width: { step: 26 },
    height: { step: 26 },
    encoding: {
      x: { field: x, type: 'ordinal', sort: xSort, axis: { format: '.2~g', labelAngle: -45 }, title: TITLES[x] ?? x },
      y: { field: y, type: 'ordinal', sort: 'descending', axis: { format: '.2~g' }, title: TITLES[y] ?? y },
      color: nominal
        ? { field: color, type: 'nominal', title: color, ...(fixed ? { scale: { domain: known, range: ['#dddddd', '#2b8cbe', '#e34a33'] } } : {}) }
        : { field: color, type: 'quantitative', title: color, scale: { scheme: 'viridis' } },
      tooltip: [{ field: x }, { field: y }, { field: color }],
    },
  } as ChartSpec;
}

/**
 * Charts of toy models of superposition (Elhage et al. 2022; Scherlis et al. 2022). Each function takes
 * the tables of results/toy-tables.ts and returns a Vega-Lite spec. Marks carry names (`*_marks` in the
 * SVG) so tests and readers can find them.
 */
import type { ColumnTable } from 'arquero';
import { rowsOf, type ChartSpec } from './render.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** The fractions feature dimensionality sticks at (Elhage et al., "Feature dimensionality"). */
export const STICKY_FRACTIONS: readonly { value: number; label: string }[] = [
  { value: 1, label: '1' },
  { value: 3 / 4, label: '3/4' },
  { value: 2 / 3, label: '2/3' },
  { value: 1 / 2, label: '1/2' },
  { value: 2 / 5, label: '2/5' },
  { value: 3 / 8, label: '3/8' },
];

const probLabel = { field: 'feature_prob', type: 'quantitative', title: 'feature prob 1-S', format: '.3~g' } as const;

/**
 * The rows of W (features x 2) as arrows from the origin, one panel per instance: the paper's picture of
 * features packed as an antipodal pair, a triangle, a pentagon. Both axes share one symmetric domain so
 * angles read true.
 */
export function toyGeometryChart(geometry: ColumnTable, opts: { columns?: number } = {}): ChartSpec {
  const values = rowsOf(geometry);
  let r = 0;
  for (const v of values) r = Math.max(r, Math.abs(Number(v.x)), Math.abs(Number(v.y)));
  const domain = [-(r || 1) * 1.1, (r || 1) * 1.1];
  const x = { field: 'x', type: 'quantitative', scale: { domain }, title: 'hidden dim 0' };
  const y = { field: 'y', type: 'quantitative', scale: { domain }, title: 'hidden dim 1' };
  return {
    $schema: SCHEMA,
    title: 'Feature directions W_i in the 2D hidden space',
    data: { values },
    facet: { field: 'instance', type: 'ordinal', title: 'instance', header: { labelExpr: "'instance ' + datum.value" } },
    columns: opts.columns ?? 5,
    spec: {
      width: 150,
      height: 150,
      layer: [
        {
          name: 'feature_arrows',
          mark: { type: 'rule', strokeWidth: 2 },
          encoding: { x, y, x2: { datum: 0 }, y2: { datum: 0 }, color: { field: 'feature', type: 'nominal' } },
        },
        {
          name: 'feature_tips',
          mark: { type: 'point', filled: true, size: 40 },
          encoding: {
            x,
            y,
            color: { field: 'feature', type: 'nominal' },
            tooltip: [{ field: 'feature' }, { field: 'norm', format: '.3f' }, probLabel],
          },
        },
      ],
    },
    resolve: { scale: { x: 'shared', y: 'shared' } },
  } as ChartSpec;
}

/**
 * Per feature, its norm ||W_i|| as a bar and its interference with the others as the bar's colour: a long
 * dark bar is a feature represented in superposition, a long light one has a dimension to itself.
 */
export function normInterferenceChart(features: ColumnTable, opts: { columns?: number } = {}): ChartSpec {
  return {
    $schema: SCHEMA,
    title: 'Feature norm (bar) and interference (colour) per instance',
    data: { values: rowsOf(features) },
    facet: { field: 'instance', type: 'ordinal', title: 'instance', header: { labelExpr: "'instance ' + datum.value" } },
    columns: opts.columns ?? 5,
    spec: {
      width: 150,
      height: 110,
      mark: 'bar',
      name: 'norm_bars',
      encoding: {
        x: { field: 'feature', type: 'ordinal' },
        y: { field: 'norm', type: 'quantitative', title: '||W_i||' },
        color: {
          field: 'interference',
          type: 'quantitative',
          title: 'interference',
          scale: { scheme: 'viridis', domainMin: 0 },
        },
        tooltip: [{ field: 'feature' }, { field: 'norm', format: '.3f' }, { field: 'interference', format: '.3f' }, probLabel],
      },
    },
  } as ChartSpec;
}

/**
 * Feature dimensionality D_i against 1/(1-S), log x, with the sticky fractions as guide lines and the
 * instance's dims per feature m/||W||_F^2 as a line: the paper's "feature dimensionality" figure.
 */
export function dimensionalityChart(features: ColumnTable, instances: ColumnTable): ChartSpec {
  const featureRows = rowsOf(features).filter((r) => Number(r.inv_density) > 0 && Number.isFinite(Number(r.inv_density)));
  const instanceRows = rowsOf(instances).filter((r) => Number(r.inv_density) > 0 && r.dims_per_feature !== null);
  const xs = featureRows.map((r) => Number(r.inv_density));
  const xMin = Math.min(...xs, 1);
  const xMax = Math.max(...xs, 2);
  const guides = STICKY_FRACTIONS.map((f) => ({ ...f, inv_density: xMax }));
  // D_i <= 1 always, but m/||W||_F^2 exceeds 1 when features are shrunk (relu-hidden models do this).
  const yMax = Math.max(1.1, ...instanceRows.map((r) => Number(r.dims_per_feature) * 1.05).filter(Number.isFinite));
  const x = { field: 'inv_density', type: 'quantitative', scale: { type: 'log', domain: [xMin, xMax] }, title: '1 / (1 - S)' } as const;
  return {
    $schema: SCHEMA,
    title: 'Feature dimensionality D_i against sparsity',
    width: 520,
    height: 300,
    layer: [
      {
        name: 'sticky_guides',
        data: { values: guides },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#999' },
        encoding: { y: { field: 'value', type: 'quantitative' } },
      },
      {
        name: 'sticky_labels',
        data: { values: guides },
        mark: { type: 'text', align: 'right', dx: -2, dy: -5, color: '#666', fontSize: 10 },
        encoding: { x: { ...x }, y: { field: 'value', type: 'quantitative' }, text: { field: 'label' } },
      },
      {
        name: 'dims_per_feature',
        data: { values: instanceRows },
        mark: { type: 'line', color: 'black', strokeWidth: 1.5 },
        encoding: { x, y: { field: 'dims_per_feature', type: 'quantitative' }, order: { field: 'inv_density' } },
      },
      {
        name: 'feature_dims',
        data: { values: featureRows },
        mark: { type: 'point', filled: true, opacity: 0.7, size: 30 },
        encoding: {
          x,
          y: { field: 'dimensionality', type: 'quantitative', title: 'D_i (points), m/||W||_F^2 (line)', scale: { domain: [0, yMax] } },
          color: { field: 'feature', type: 'nominal' },
          tooltip: [{ field: 'instance' }, { field: 'feature' }, { field: 'dimensionality', format: '.3f' }, probLabel],
        },
      },
    ],
  } as ChartSpec;
}

/** Scherlis capacity C_i against importance, one point per (instance, feature), coloured by feature probability. */
export function capacityChart(features: ColumnTable): ChartSpec {
  return {
    $schema: SCHEMA,
    title: 'Capacity C_i against importance',
    width: 360,
    height: 260,
    data: { values: rowsOf(features) },
    mark: { type: 'point', filled: true, size: 40, opacity: 0.8 },
    name: 'capacity_points',
    encoding: {
      x: { field: 'importance', type: 'quantitative', scale: { type: 'log' }, title: 'importance I_i' },
      y: { field: 'capacity', type: 'quantitative', scale: { domain: [0, 1.05] }, title: 'capacity C_i' },
      color: { ...probLabel, scale: { type: 'log', scheme: 'plasma' } },
      tooltip: [{ field: 'instance' }, { field: 'feature' }, { field: 'capacity', format: '.3f' }, probLabel],
    },
  } as ChartSpec;
}

/**
 * Total capacity sum_i C_i against m, with the bound sum_i C_i <= m as a diagonal: points on the line
 * use every dimension; points below leave some to waste or interference.
 */
export function totalCapacityChart(instances: ColumnTable): ChartSpec {
  const rows = rowsOf(instances);
  const mMax = Math.max(1, ...rows.map((r) => Number(r.hidden)));
  return {
    $schema: SCHEMA,
    title: 'Total capacity against m (bound: sum C_i <= m)',
    width: 300,
    height: 260,
    layer: [
      {
        name: 'capacity_bound',
        data: { values: [{ m: 0, bound: 0 }, { m: mMax, bound: mMax }] },
        mark: { type: 'line', strokeDash: [4, 3], color: '#999' },
        encoding: { x: { field: 'm', type: 'quantitative' }, y: { field: 'bound', type: 'quantitative' } },
      },
      {
        name: 'total_capacity',
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 50, opacity: 0.8 },
        encoding: {
          x: { field: 'hidden', type: 'quantitative', title: 'm (hidden dimensions)', scale: { domain: [0, mMax * 1.05] } },
          y: { field: 'total_capacity', type: 'quantitative', title: 'sum_i C_i' },
          color: { ...probLabel, scale: { type: 'log', scheme: 'plasma' } },
          tooltip: [{ field: 'instance' }, { field: 'total_capacity', format: '.3f' }, probLabel],
        },
      },
    ],
  } as ChartSpec;
}

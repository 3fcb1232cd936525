/**
 * Charts of sparse probing and neuron classification (Gurnee et al. 2023): F1 against k, per feature and
 * ranking method; a neuron x feature selectivity heatmap; mono / poly / dead counts per layer.
 */
import type { ColumnTable } from 'arquero';
import { rowsOf, type ChartSpec } from './render.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
/** Grid lines would cut through the cells of a heatmap. */
export const NO_GRID = { axis: { grid: false } };

export interface F1Options {
  /** At most this many features get a panel (the first by name); the rest are named in the subtitle. */
  maxFeatures?: number;
  columns?: number;
  metric?: string;
}

/**
 * The sparse-probing curve: test F1 against k (log2 axis), one line per method, one panel per feature.
 * Rows without a score (skipped features, status != ok) are left out. Several hooks show as dash styles.
 */
export function f1VsKChart(sweep: ColumnTable, opts: F1Options = {}): ChartSpec {
  const metric = opts.metric ?? 'f1';
  const rows = rowsOf(sweep).filter(
    (r) => typeof r[metric] === 'number' && typeof r.k === 'number' && (r.status === undefined || r.status === null || r.status === 'ok'),
  );
  const features = [...new Set(rows.map((r) => String(r.feature)))].sort();
  const max = opts.maxFeatures ?? 24;
  const shown = new Set(features.slice(0, max));
  const values = rows.filter((r) => shown.has(String(r.feature)));
  const hooks = new Set(values.map((r) => String(r.hook ?? '')));
  const encoding: Record<string, unknown> = {
    x: { field: 'k', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: [1, 2, 4, 8, 16, 32, 64, 128, 256] } },
    y: { field: metric, type: 'quantitative', scale: { domain: [0, 1] }, title: `test ${metric}` },
    color: { field: 'method', type: 'nominal' },
    tooltip: [{ field: 'feature' }, { field: 'hook' }, { field: 'method' }, { field: 'k' }, { field: metric, format: '.3f' }],
  };
  if (hooks.size > 1) encoding.strokeDash = { field: 'hook', type: 'nominal' };
  const detail = hooks.size > 1 ? [{ field: 'hook' }] : [];
  return {
    $schema: SCHEMA,
    title: {
      text: `Sparse probing: test ${metric} against k`,
      subtitle: features.length > max ? `first ${max} of ${features.length} features` : undefined,
    },
    data: { values },
    facet: { field: 'feature', type: 'nominal', title: null },
    columns: opts.columns ?? 4,
    spec: {
      width: 170,
      height: 120,
      layer: [
        { name: 'f1_lines', mark: { type: 'line', strokeWidth: 1.5 }, encoding: { ...encoding, detail } },
        { name: 'f1_points', mark: { type: 'point', filled: true, size: 18 }, encoding },
      ],
    },
  } as ChartSpec;
}

export interface HeatmapOptions {
  /** Column names in the long table. */
  neuron?: string;
  feature?: string;
  value?: string;
  /** Keep the neurons with the largest value on any feature, at most this many (a layer has thousands). */
  maxNeurons?: number;
  title?: string;
}

/**
 * A neuron x feature heatmap of selectivity (or weight share), from a long table with one row per
 * (neuron, feature). Only the most selective neurons are drawn: an SVG with a rect per cell of a
 * 3,072-neuron layer would be unreadable and heavy.
 */
export function selectivityHeatmap(long: ColumnTable, opts: HeatmapOptions = {}): ChartSpec {
  const neuron = opts.neuron ?? 'neuron';
  const feature = opts.feature ?? 'feature';
  const value = opts.value ?? 'selectivity';
  const rows = rowsOf(long).filter((r) => typeof r[value] === 'number');
  const best = new Map<string, number>();
  for (const r of rows) {
    const key = String(r[neuron]);
    best.set(key, Math.max(best.get(key) ?? -Infinity, Number(r[value])));
  }
  const max = opts.maxNeurons ?? 64;
  const keep = new Set([...best.entries()].sort((a, b) => b[1] - a[1]).slice(0, max).map(([k]) => k));
  const values = rows.filter((r) => keep.has(String(r[neuron])));
  const tooltip: Record<string, string>[] = [{ field: neuron }, { field: feature }, { field: value, format: '.3f' }];
  if (values.some((r) => r.label !== undefined)) tooltip.push({ field: 'label' });
  return {
    $schema: SCHEMA,
    title: {
      text: opts.title ?? `Neuron x feature ${value}`,
      subtitle: best.size > max ? `the ${max} most selective of ${best.size} neurons` : undefined,
    },
    data: { values },
    config: NO_GRID,
    mark: 'rect',
    name: 'selectivity_cells',
    width: { step: 14 },
    height: { step: 12 },
    encoding: {
      x: { field: neuron, type: 'ordinal', sort: 'ascending', title: neuron },
      y: { field: feature, type: 'nominal', title: feature },
      color: { field: value, type: 'quantitative', scale: { scheme: 'blues' }, title: value },
      tooltip,
    },
  } as ChartSpec;
}

/** Stacked bars: how many neurons of each label (mono, poly, dead) per layer or hook. */
export function labelCountsChart(neurons: ColumnTable, opts: { layer?: string; label?: string } = {}): ChartSpec {
  const layer = opts.layer ?? 'hook';
  const label = opts.label ?? 'label';
  const counts = new Map<string, { layer: string; label: string; count: number }>();
  for (const r of rowsOf(neurons)) {
    const l = String(r[layer] ?? '');
    const lab = String(r[label]);
    const key = `${l}\u0000${lab}`;
    const c = counts.get(key) ?? { layer: l, label: lab, count: 0 };
    c.count++;
    counts.set(key, c);
  }
  return {
    $schema: SCHEMA,
    title: 'Neurons by label per layer',
    data: { values: [...counts.values()] },
    mark: 'bar',
    name: 'label_bars',
    width: { step: 36 },
    height: 220,
    encoding: {
      x: { field: 'layer', type: 'nominal', title: layer, axis: { labelAngle: -30 } },
      y: { field: 'count', type: 'quantitative', stack: 'zero', title: 'neurons' },
      color: {
        field: 'label',
        type: 'nominal',
        scale: { domain: ['mono', 'poly', 'dead'], range: ['#2b8cbe', '#e34a33', '#bbbbbb'] },
      },
      tooltip: [{ field: 'layer' }, { field: 'label' }, { field: 'count' }],
    },
  } as ChartSpec;
}

/**
 * A confusion matrix of neuron labels: rows the weight-based truth (toy models), columns the labels read
 * from activations, each cell its count. Input: one row per (truth, predicted, count).
 */
export function confusionChart(confusion: ColumnTable): ChartSpec {
  const order = ['mono', 'poly', 'dead'];
  const values = rowsOf(confusion);
  const maxCount = Math.max(0, ...values.map((r) => Number(r.count)));
  const encoding = {
    x: { field: 'activations', type: 'nominal', sort: order, title: 'label from activations', axis: { orient: 'top', labelAngle: 0 } },
    y: { field: 'weights', type: 'nominal', sort: order, title: 'label from weights' },
  };
  return {
    $schema: SCHEMA,
    title: 'Neuron labels: activations against weights',
    data: { values },
    config: NO_GRID,
    width: { step: 56 },
    height: { step: 32 },
    layer: [
      {
        name: 'confusion_cells',
        mark: 'rect',
        encoding: { ...encoding, color: { field: 'count', type: 'quantitative', scale: { scheme: 'greens' }, legend: null } },
      },
      {
        name: 'confusion_counts',
        mark: { type: 'text', fontSize: 12 },
        encoding: {
          ...encoding,
          text: { field: 'count', type: 'quantitative' },
          // White on the dark cells, black on the light ones.
          color: { condition: { test: `datum.count > ${maxCount / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  } as ChartSpec;
}

/**
 * The per-feature capacity read from activations (probes/capacity.ts) against the toy model's Scherlis
 * C_i from its weights, with the diagonal where they agree. Only features with both are drawn.
 */
export function capacityAgreementChart(features: ColumnTable): ChartSpec {
  const values = rowsOf(features).filter((r) => typeof r.capacity === 'number' && typeof r.toy_capacity === 'number' && r.status !== 'skipped');
  return {
    $schema: SCHEMA,
    title: 'Capacity from activations against Scherlis C_i from weights',
    width: 300,
    height: 260,
    layer: [
      {
        name: 'capacity_diagonal',
        data: { values: [{ c: 0 }, { c: 1 }] },
        mark: { type: 'line', strokeDash: [4, 3], color: '#999' },
        encoding: { x: { field: 'c', type: 'quantitative' }, y: { field: 'c', type: 'quantitative' } },
      },
      {
        name: 'capacity_agreement',
        data: { values },
        mark: { type: 'point', filled: true, size: 50, opacity: 0.8 },
        encoding: {
          x: { field: 'toy_capacity', type: 'quantitative', title: 'Scherlis C_i (weights)', scale: { domain: [0, 1] } },
          y: { field: 'capacity', type: 'quantitative', title: 'capacity (activations)', scale: { domainMin: 0 } },
          color: { field: 'hook', type: 'nominal' },
          tooltip: [{ field: 'feature' }, { field: 'hook' }, { field: 'capacity', format: '.3f' }, { field: 'toy_capacity', format: '.3f' }],
        },
      },
    ],
  } as ChartSpec;
}

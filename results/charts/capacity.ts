/**
 * The capacity claim as a picture (lab capacity): importance against capacity, one point per feature and
 * layer of the language model, beside the toy model's importance against its Scherlis C_i. If important
 * features get dimensions of their own, points rise to the right in both panels.
 */
import type { ColumnTable } from 'arquero';
import { rowsOf, type ChartSpec } from './render.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

function panel(name: string, title: string, values: Record<string, unknown>[], x: { field: string; title: string }, y: { field: string; title: string }, color: { field: string; title: string }, tooltip: string[]): Record<string, unknown> {
  return {
    name,
    title,
    width: 300,
    height: 240,
    data: { values },
    mark: { type: 'point', filled: true, size: 45, opacity: 0.8 },
    encoding: {
      x: { field: x.field, type: 'quantitative', title: x.title, scale: { zero: true } },
      y: { field: y.field, type: 'quantitative', title: y.title },
      color: { field: color.field, type: 'nominal', title: color.title },
      tooltip: tooltip.map((f) => ({ field: f })),
    },
  };
}

/** LM panel from capacity.csv; toy panel from toy.csv when the run has one. */
export function importanceCapacityChart(capacity: ColumnTable, toy?: ColumnTable): ChartSpec {
  const lm = rowsOf(capacity).filter((r) => typeof r.importance === 'number' && typeof r.capacity === 'number');
  const panels = [
    panel('importance_lm', 'Language model: one point per feature and layer', lm, { field: 'capacity', title: 'capacity (share of the layer, from activations)' },
      { field: 'importance', title: 'importance (bits/byte lost, direction ablated)' }, { field: 'hook', title: 'layer' },
      ['feature', 'hook', 'importance', 'capacity', 'mono_share', 'k_star', 'dedicated']),
  ];
  if (toy) {
    const t = rowsOf(toy).filter((r) => typeof r.importance === 'number' && typeof r.capacity === 'number')
      .map((r) => ({ ...r, instance_label: `instance ${r.instance} (p = ${r.feature_prob})` }));
    panels.push(panel('importance_toy', 'Toy model: known importance, C_i from weights', t, { field: 'capacity', title: 'Scherlis C_i' },
      { field: 'importance', title: 'importance (set by the data)' }, { field: 'instance_label', title: 'toy instance' },
      ['feature', 'instance', 'feature_prob', 'importance', 'capacity', 'phase']));
  }
  return {
    $schema: SCHEMA,
    title: 'Importance against capacity',
    hconcat: panels,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    // The panels are built as plain records (one helper for both); vega-lite's types cannot see their marks.
  } as unknown as ChartSpec;
}

import { describe, expect, it } from 'vitest';
import * as aq from 'arquero';
import { toyTables, type ToyInstance } from '../toy-tables.ts';
import { countMarks, markItems, parseXml } from '../svg-check.ts';
import { renderSvg } from './render.ts';
import { capacityChart, dimensionalityChart, normInterferenceChart, STICKY_FRACTIONS, toyGeometryChart, totalCapacityChart } from './toy.ts';
import { phaseChart } from './phase.ts';
import { f1VsKChart, labelCountsChart, selectivityHeatmap } from './probes.ts';
import { InputError } from '../../lab/core/index.ts';

const pentagon = Array.from({ length: 5 }, (_, i) => [Math.cos((2 * Math.PI * i) / 5), Math.sin((2 * Math.PI * i) / 5)]);
const orthogonal = [[1, 0], [0, 1], [0, 0], [0, 0], [0, 0]];
// Metrics left out on purpose: toyTables recomputes them from W.
const instances: ToyInstance[] = [
  { feature_prob: 1, loss: 0.2, W: orthogonal },
  { feature_prob: 0.05, loss: 0.01, W: pentagon },
];
const config = { model: 'relu-out', features: 5, hidden: 2, importance_decay: 0.9 };

describe('toyTables', () => {
  const t = toyTables(instances, config);
  it('recomputes D_i and C_i from W: orthogonal 1/0, pentagon 2/5', () => {
    const f = t.features.objects() as { instance: number; dimensionality: number; capacity: number; importance: number }[];
    const orth = f.filter((r) => r.instance === 0).map((r) => r.capacity);
    expect(orth.map((c) => +c.toFixed(9))).toEqual([1, 1, 0, 0, 0]);
    for (const r of f.filter((r) => r.instance === 1)) expect(r.dimensionality).toBeCloseTo(2 / 5, 9);
    expect(f[3]!.importance).toBeCloseTo(0.9 ** 3, 12);
  });
  it('totals per instance: sum C_i = m for both, dims per feature m/||W||_F^2', () => {
    const rows = t.instances.objects() as { total_capacity: number; dims_per_feature: number; inv_density: number }[];
    expect(rows[0]!.total_capacity).toBeCloseTo(2, 9);
    expect(rows[1]!.total_capacity).toBeCloseTo(2, 9);
    expect(rows[1]!.dims_per_feature).toBeCloseTo(2 / 5, 9);
    expect(rows[1]!.inv_density).toBeCloseTo(20, 9);
  });
  it('gives 2D coordinates only when m = 2', () => {
    expect(t.geometry?.numRows()).toBe(10);
    expect(toyTables([{ feature_prob: 1, loss: 0, W: [[1, 0, 0]] }], config).geometry).toBeUndefined();
  });
});

describe('toy charts render to well-formed SVG with one mark per datum', () => {
  const t = toyTables(instances, config);
  it('geometry: an arrow and a tip per (instance, feature), on a symmetric square domain', async () => {
    const svg = await renderSvg(toyGeometryChart(t.geometry!));
    const root = parseXml(svg);
    expect(root.tag).toBe('svg');
    expect(markItems(root, 'feature_arrows')).toHaveLength(10);
    expect(markItems(root, 'feature_tips')).toHaveLength(10);
    // Equal scales on a symmetric domain: the origin sits at the panel centre (75, 75) and each unit vector's
    // tip at 75 / 1.1 px from it, whatever its direction; the three zero rows of the orthogonal instance sit at 0.
    const radii = markItems(root, 'feature_tips').map((n) => {
      const [x, y] = /translate\(([-0-9.e]+),([-0-9.e]+)\)/.exec(n.attrs.transform ?? '')!.slice(1).map(Number);
      return Math.hypot(x! - 75, y! - 75);
    });
    expect(radii.filter((r) => Math.abs(r - 75 / 1.1) < 0.5)).toHaveLength(7);
    expect(radii.filter((r) => r < 0.5)).toHaveLength(3);
  });
  it('norm bars: one per (instance, feature)', async () => {
    expect(countMarks(await renderSvg(normInterferenceChart(t.features)), 'norm_bars')).toBe(10);
  });
  it('dimensionality: the six sticky fractions as guide lines, a point per feature, a line for dims per feature', async () => {
    const root = parseXml(await renderSvg(dimensionalityChart(t.features, t.instances)));
    const guides = markItems(root, 'sticky_guides');
    expect(guides).toHaveLength(6);
    const values = guides.map((g) => Number(/value: ([0-9.]+)/.exec(g.attrs['aria-label'] ?? '')?.[1]));
    for (const f of STICKY_FRACTIONS) expect(values.some((v) => Math.abs(v - f.value) < 1e-3)).toBe(true);
    expect(markItems(root, 'sticky_labels')).toHaveLength(6);
    expect(markItems(root, 'feature_dims')).toHaveLength(10);
    expect(markItems(root, 'dims_per_feature')).toHaveLength(1);
  });
  it('capacity: a point per (instance, feature); totals a point per instance under the bound line', async () => {
    expect(countMarks(await renderSvg(capacityChart(t.features)), 'capacity_points')).toBe(10);
    const root = parseXml(await renderSvg(totalCapacityChart(t.instances)));
    expect(markItems(root, 'total_capacity')).toHaveLength(2);
    expect(markItems(root, 'capacity_bound')).toHaveLength(1);
  });
});

describe('phase diagram', () => {
  const rows: Array<Record<string, unknown>> = [];
  for (const sparsity of [0, 0.5, 0.9]) for (const rel of [0.1, 0.5, 1, 2]) rows.push({ sparsity, relative_importance: rel, phase: rel > 1 ? 'superposition' : 'ignored' });
  it('draws one cell per (sparsity, importance)', async () => {
    expect(countMarks(await renderSvg(phaseChart(aq.from(rows))), 'phase_cells')).toBe(12);
  });
  it('names the table and its columns when no phase column is found', () => {
    expect(() => phaseChart(aq.table({ sparsity: [0], relative_importance: [1] }), { source: 'runs/s/phase.csv' })).toThrow(
      /runs\/s\/phase\.csv has no phase column/,
    );
    expect(() => phaseChart(aq.table({ a: [0] }), { source: 'p.csv' })).toThrow(InputError);
  });
});

describe('probe charts', () => {
  const sweep: Array<Record<string, unknown>> = [];
  for (const feature of ['is_noun', 'is_verb']) {
    for (const method of ['mean_dif', 'l1']) {
      for (const k of [1, 2, 4]) sweep.push({ feature, hook: 'h', method, k, f1: 0.5 + k / 10, status: 'ok' });
    }
  }
  sweep.push({ feature: 'rare', hook: 'h', method: 'mean_dif', k: null, f1: null, status: 'skipped' });
  it('F1 vs k: a line per (feature, method) and a point per row; skipped rows are left out', async () => {
    const root = parseXml(await renderSvg(f1VsKChart(aq.from(sweep))));
    expect(markItems(root, 'f1_lines')).toHaveLength(4);
    expect(markItems(root, 'f1_points')).toHaveLength(12);
  });
  it('heatmap: a cell per (neuron, feature), capped to the most selective neurons', async () => {
    const long = [];
    for (let neuron = 0; neuron < 10; neuron++) for (const feature of ['a', 'b', 'c']) long.push({ neuron, feature, selectivity: neuron / 10 });
    expect(countMarks(await renderSvg(selectivityHeatmap(aq.from(long))), 'selectivity_cells')).toBe(30);
    const capped = parseXml(await renderSvg(selectivityHeatmap(aq.from(long), { maxNeurons: 4 })));
    const cells = markItems(capped, 'selectivity_cells');
    expect(cells).toHaveLength(12);
    // The four kept are the most selective: neurons 6..9.
    expect(cells.every((c) => /neuron: [6-9];/.test(c.attrs['aria-label'] ?? ''))).toBe(true);
  });
  it('label counts: one stacked bar segment per (layer, label) with the right counts', async () => {
    const neurons = [
      ...Array.from({ length: 5 }, () => ({ hook: 'blocks.0.mlp.hook_post', label: 'mono' })),
      ...Array.from({ length: 3 }, () => ({ hook: 'blocks.0.mlp.hook_post', label: 'poly' })),
      ...Array.from({ length: 2 }, () => ({ hook: 'blocks.1.mlp.hook_post', label: 'dead' })),
    ];
    const bars = markItems(parseXml(await renderSvg(labelCountsChart(aq.from(neurons)))), 'label_bars');
    expect(bars).toHaveLength(3);
    const counts = bars.map((b) => Number(/count: (\d+)/.exec(b.attrs['aria-label'] ?? '')?.[1])).sort();
    expect(counts).toEqual([2, 3, 5]);
  });
});

describe('svg-check', () => {
  it('rejects malformed XML', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow(/does not match/);
    expect(() => parseXml('<svg><g>')).toThrow(/unclosed/);
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow(/duplicate/);
    expect(parseXml('<svg><g class="x_marks"><path role="graphics-symbol"/></g></svg>').children).toHaveLength(1);
  });
});

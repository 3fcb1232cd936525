/**
 * Which charts a loaded run gets. The HTML report and the notebooks both call this, so they show the
 * same pictures of the same tables.
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import type { LoadedRun } from '../load-run.ts';
import { phaseChart } from './phase.ts';
import { enrichmentChart, extractionChart, knockoutChart } from './recall.ts';
import { capacityAgreementChart, confusionChart, f1VsKChart, labelCountsChart, selectivityHeatmap } from './probes.ts';
import type { ChartSpec } from './render.ts';
import { importanceCapacityChart } from './capacity.ts';
import { capacityChart, dimensionalityChart, normInterferenceChart, toyGeometryChart, totalCapacityChart } from './toy.ts';

/** A classify run over many hooks gets a heatmap for the first few only (all of them are in neurons.csv). */
export const MAX_HEATMAP_LAYERS = 4;

export interface NamedChart {
  /** Stable id: toy_geometry, norm_interference, dimensionality, capacity, total_capacity, phase, f1_vs_k, selectivity, label_counts, capacity_agreement, confusion, recall_knockout, recall_enrichment, recall_extraction, importance_capacity. */
  id: string;
  title: string;
  spec: ChartSpec;
}

function firstColumn(t: ColumnTable, names: string[]): string | undefined {
  const cols = t.columnNames();
  return names.find((n) => cols.includes(n));
}

/**
 * A classify run's per-neuron table in long form (hook, neuron, feature, selectivity). probes/classify-run.ts
 * writes `selectivity` as space-separated `feature:share` pairs (positive shares only); a table may also
 * be long already, or wide with one `sel_<feature>` column per feature. Features a neuron has no share
 * of get 0, so the heatmap has no holes.
 */
export function selectivityLong(neurons: ColumnTable): ColumnTable | undefined {
  const cols = neurons.columnNames();
  if (cols.includes('feature') && cols.includes('selectivity')) return neurons;
  const rows = neurons.objects() as Record<string, unknown>[];
  const keep = cols.filter((c) => ['hook', 'layer', 'neuron', 'label', 'truth_label'].includes(c));
  const parsed: { base: Record<string, unknown>; shares: Map<string, number> }[] = [];
  const wide = cols.filter((c) => c.startsWith('sel_') || c.startsWith('selectivity_'));
  if (wide.length > 0) {
    for (const r of rows) parsed.push({ base: r, shares: new Map(wide.map((c) => [c.replace(/^sel(ectivity)?_/, ''), Number(r[c])])) });
  } else if (cols.includes('selectivity')) {
    for (const r of rows) {
      const shares = new Map<string, number>();
      for (const pair of String(r.selectivity ?? '').split(/\s+/)) {
        const at = pair.lastIndexOf(':');
        if (at > 0) shares.set(pair.slice(0, at), Number(pair.slice(at + 1)));
      }
      parsed.push({ base: r, shares });
    }
  } else {
    return undefined;
  }
  const features = [...new Set(parsed.flatMap((p) => [...p.shares.keys()]))].sort();
  if (features.length === 0) return undefined;
  const out: Record<string, unknown>[] = [];
  for (const p of parsed) {
    for (const feature of features) {
      const row: Record<string, unknown> = {};
      for (const k of keep) row[k] = p.base[k];
      row.feature = feature;
      row.selectivity = p.shares.get(feature) ?? 0;
      out.push(row);
    }
  }
  return aq.from(out);
}

export function chartsFor(run: LoadedRun): NamedChart[] {
  const t = run.tables;
  const out: NamedChart[] = [];
  const add = (id: string, title: string, spec: ChartSpec | undefined) => {
    if (spec) out.push({ id, title, spec });
  };
  if (t.toy_geometry) add('toy_geometry', 'Feature geometry (m = 2)', toyGeometryChart(t.toy_geometry));
  if (t.toy_features) add('norm_interference', 'Norm and interference', normInterferenceChart(t.toy_features));
  if (t.toy_features && t.toy_instances) add('dimensionality', 'Feature dimensionality', dimensionalityChart(t.toy_features, t.toy_instances));
  if (t.toy_features) add('capacity', 'Capacity allocation', capacityChart(t.toy_features));
  if (t.toy_instances) add('total_capacity', 'Total capacity', totalCapacityChart(t.toy_instances));
  if (t.toy_neuron_features) {
    const first = t.toy_neuron_features.filter((d: { instance: number }) => d.instance === 0);
    add('selectivity', 'Neuron weight shares (instance 0)', selectivityHeatmap(first, { value: 'share', title: 'Share of each neuron\'s input weight per feature (instance 0)' }));
    add('label_counts', 'Neuron labels (from weights)', labelCountsChart(t.toy_neuron_features.dedupe('instance', 'neuron'), { layer: 'instance' }));
  }
  if (t.phase) add('phase', 'Phase diagram', phaseChart(t.phase, { source: `${run.dir}/phase.csv` }));
  if (t.sweep) add('f1_vs_k', 'F1 against k', f1VsKChart(t.sweep));
  if (t.classify_neurons) {
    const long = t.classify_selectivity ?? selectivityLong(t.classify_neurons);
    const layer = firstColumn(t.classify_neurons, ['layer', 'hook']);
    if (long && long.columnNames().includes('neuron')) {
      // One heatmap per layer: neuron indices are per layer, and layers have thousands of them.
      const layers = layer ? [...new Set(long.array(layer) as string[])] : [undefined];
      for (const l of layers.slice(0, MAX_HEATMAP_LAYERS)) {
        const part = l === undefined || !layer ? long : long.filter(aq.escape((d: Record<string, unknown>) => d[layer] === l));
        add('selectivity', `Neuron x feature selectivity${l === undefined ? '' : ` (${l})`}`,
          selectivityHeatmap(part, { title: `Neuron x feature selectivity${l === undefined ? '' : `: ${l}`}` }));
      }
    }
    const label = firstColumn(t.classify_neurons, ['label']);
    if (label) add('label_counts', 'Mono / poly / dead per layer', labelCountsChart(t.classify_neurons, { layer: layer ?? 'hook', label }));
  }
  const cf = t.classify_features;
  if (cf && cf.columnNames().includes('toy_capacity') && (cf.array('toy_capacity') as unknown[]).some((v) => typeof v === 'number')) {
    add('capacity_agreement', 'Capacity: activations against weights', capacityAgreementChart(cf));
  }
  if (run.kind === 'recall') {
    if (t.knockout) add('recall_knockout', 'Attention knockout per block set', knockoutChart(t.knockout));
    if (t.enrichment) add('recall_enrichment', 'Attributes rate per position', enrichmentChart(t.enrichment));
    if (t.extraction) add('recall_extraction', 'Extraction rate per sublayer', extractionChart(t.extraction));
  }
  if (run.kind === 'capacity' && t.capacity) add('importance_capacity', 'Importance against capacity', importanceCapacityChart(t.capacity, t.toy));
  if (t.toy_confusion) add('confusion', 'Labels from activations against labels from weights', confusionChart(t.toy_confusion));
  return out;
}

/**
 * Which charts a loaded run gets. The HTML report and the notebooks both call this, so they show the
 * same pictures of the same tables.
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import type { LoadedRun } from '../load-run.ts';
import { phaseChart } from './phase.ts';
import { f1VsKChart, labelCountsChart, selectivityHeatmap } from './probes.ts';
import type { ChartSpec } from './render.ts';
import { capacityChart, dimensionalityChart, normInterferenceChart, toyGeometryChart, totalCapacityChart } from './toy.ts';

export interface NamedChart {
  /** Stable id: toy_geometry, norm_interference, dimensionality, capacity, total_capacity, phase, f1_vs_k, selectivity, label_counts. */
  id: string;
  title: string;
  spec: ChartSpec;
}

function firstColumn(t: ColumnTable, names: string[]): string | undefined {
  const cols = t.columnNames();
  return names.find((n) => cols.includes(n));
}

/**
 * A classify run's per-neuron table in long form (neuron, feature, selectivity). It may already be long,
 * or wide with one `sel_<feature>` / `selectivity_<feature>` column per feature.
 */
export function selectivityLong(neurons: ColumnTable): ColumnTable | undefined {
  const cols = neurons.columnNames();
  if (cols.includes('feature') && cols.includes('selectivity')) return neurons;
  const wide = cols.filter((c) => c.startsWith('sel_') || c.startsWith('selectivity_'));
  if (wide.length === 0) return undefined;
  const keep = cols.filter((c) => !wide.includes(c));
  const rows: Record<string, unknown>[] = [];
  for (const r of neurons.objects() as Record<string, unknown>[]) {
    for (const c of wide) {
      const row: Record<string, unknown> = {};
      for (const k of keep) row[k] = r[k];
      row.feature = c.replace(/^sel(ectivity)?_/, '');
      row.selectivity = r[c];
      rows.push(row);
    }
  }
  return aq.from(rows);
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
    const long = selectivityLong(t.classify_neurons);
    const neuronCol = long ? firstColumn(long, ['neuron', 'unit', 'index']) : undefined;
    if (long && neuronCol) add('selectivity', 'Neuron x feature selectivity', selectivityHeatmap(long, { neuron: neuronCol }));
    const layer = firstColumn(t.classify_neurons, ['layer', 'hook']);
    const label = firstColumn(t.classify_neurons, ['label']);
    if (label) {
      const perNeuron = long === t.classify_neurons && neuronCol ? t.classify_neurons.dedupe(...[layer, neuronCol].filter((c): c is string => !!c)) : t.classify_neurons;
      add('label_counts', 'Mono / poly / dead per layer', labelCountsChart(perNeuron, { layer: layer ?? 'hook', label }));
    }
  }
  return out;
}

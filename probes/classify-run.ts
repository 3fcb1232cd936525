/**
 * A classify run on disk: features.csv, neurons.csv, selectivity.csv and classify.json in a run directory.
 * `lab classify`, `lab demo` and the report's test fixtures all write classify runs through this one
 * writer, so every classify run has the same tables.
 */
import * as aq from 'arquero';
import { RunDir } from '../lab/core/index.ts';
import type { ClassifyResult } from './classify.ts';

/** Columns of selectivity.csv: one row per (neuron, probed feature). */
export const SELECTIVITY_COLUMNS = ['hook', 'neuron', 'feature', 'selectivity', 'response', 'z', 'label', 'truth_label'] as const;

export interface ClassifyRunMeta {
  seed: number;
  config: Record<string, unknown>;
  command?: string;
  /** Replace a run of another kind or config in `dir` (lab classify --overwrite). */
  overwrite?: boolean;
}

/** Writes a classify run (atomically, file by file) and marks it complete. */
export function writeClassifyRun(dir: string, res: ClassifyResult, meta: ClassifyRunMeta): void {
  const tables = classifyTables(res);
  const run = RunDir.begin(dir, { kind: 'classify', seed: meta.seed, config: meta.config, command: meta.command, overwrite: meta.overwrite });
  run.write('features.csv', tables.features);
  run.write('neurons.csv', tables.neurons);
  run.write('selectivity.csv', tables.selectivity);
  run.writeJson('classify.json', res);
  run.finish();
}

/** features.csv and neurons.csv (list columns space-separated; selectivity as feature:share pairs). */
export function classifyTables(res: ClassifyResult): { features: string; neurons: string; selectivity: string } {
  const features = aq.toCSV(aq.from(res.features));
  const long: Array<Record<string, unknown>> = [];
  for (const n of res.neurons) {
    const names = probedFeatures(n.hook, res);
    names.forEach((f, i) => long.push({
      hook: n.hook, neuron: n.neuron, feature: f, selectivity: n.shares[i], response: n.responses[i], z: n.z[i], label: n.label, truth_label: n.truth_label,
    }));
  }
  // A run where no feature could be probed has no (neuron, feature) pair; its table still has its header.
  const selectivityCsv = long.length > 0 ? aq.toCSV(aq.from(long)) : SELECTIVITY_COLUMNS.join(',') + '\n';
  const neurons = aq.toCSV(aq.from(res.neurons.map((n) => {
    const { shares, responses, z, features: carried, ...rest } = n;
    void shares, void responses, void z;
    return {
      ...rest,
      features: carried.join(' '),
      selectivity: selectivity(n, res).map(([f, s]) => `${f}:${+s.toFixed(4)}`).join(' '),
    };
  })).select('hook', 'neuron', 'label', 'truth_label', 'features', 'selectivity', 'max_share', 'response_mass', 'active_frac', 'max_activation', 'top_feature', 'top_diff', 'top_z'));
  return { features, neurons, selectivity: selectivityCsv };
}

/** The features a hook's neuron shares are indexed by: those the sweep could probe, in sweep order. */
export function probedFeatures(hook: string, res: ClassifyResult): string[] {
  return res.features.filter((f) => f.hook === hook && f.status === 'ok').map((f) => f.feature);
}

/** (feature, share) pairs with a positive share, largest first. */
function selectivity(n: ClassifyResult['neurons'][number], res: ClassifyResult): Array<[string, number]> {
  const names = probedFeatures(n.hook, res);
  return n.shares.map((s, i) => [names[i]!, s] as [string, number]).filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1]);
}

/**
 * The same question on a toy model of superposition, where the truth is known: the importance of
 * feature i is set by the data (importance_decay^i, or the listed importances) and its capacity is
 * Scherlis et al.'s C_i read from the trained weights (activations/toy metrics). A feature is dedicated
 * when it is represented and C_i >= 0.9, the toy phase diagram's rule (activations/toy phaseOf).
 */
import { importances, loadToyRun, phaseOf } from '../../activations/toy/index.ts';

export interface ToyCapacityRow {
  instance: number;
  feature_prob: number;
  feature: number;
  importance: number;
  capacity: number;
  norm: number;
  dedicated: boolean;
  phase: string;
}

export function toyCapacityRows(toyDir: string): ToyCapacityRow[] {
  const run = loadToyRun(toyDir);
  const imp = importances(run.config);
  const rows: ToyCapacityRow[] = [];
  for (const inst of run.instances) {
    for (let i = 0; i < run.config.features; i++) {
      const phase = phaseOf(inst.norms[i]!, inst.capacity[i]!);
      rows.push({
        instance: inst.instance, feature_prob: inst.feature_prob, feature: i, importance: imp[i]!,
        capacity: inst.capacity[i]!, norm: inst.norms[i]!, dedicated: phase === 'dedicated', phase,
      });
    }
  }
  return rows;
}

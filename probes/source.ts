/**
 * The probes' view of the other rooms: an activation store as a ProbeSource, and a toy run's
 * weight-based neuron labels and Scherlis capacities as ground truth for the classifier.
 */
import { resolve } from 'node:path';
import { openActivationStore } from '../activations/index.ts';
import { InputError } from '../lab/core/index.ts';
import { loadToyRun, type ToyRun } from '../activations/toy/index.ts';
import type { ToyTruth } from './classify.ts';
import type { ProbeSource } from './sweep.ts';

export function storeSource(dir: string): ProbeSource {
  const store = openActivationStore(dir);
  const width = new Map(store.manifest.hooks.map((h) => [h.name, h.n_neurons]));
  return {
    dir: resolve(dir),
    hooks: () => store.hooks.slice(),
    features: () => store.features.slice(),
    width: (hook) => width.get(hook) ?? 0,
    read: (hook) => store.readProbeData(hook),
    fingerprint: () => `${store.manifest.config_hash}:${store.manifest.total_rows}`,
  };
}

/**
 * Ground truth of toy hooks: instance i's neuron labels read from its weights (activations/toy/neurons.ts) and
 * its Scherlis C_j for the store's feature names 'feature_j'. Runs are loaded once each.
 */
export function toyTruthLoader(): (toy: { runDir: string; instance: number }, hook: string, features: string[]) => ToyTruth | undefined {
  const runs = new Map<string, ToyRun>();
  return (toy, hook, features) => {
    let run = runs.get(toy.runDir);
    if (!run) {
      run = loadToyRun(toy.runDir);
      runs.set(toy.runDir, run);
    }
    const inst = run.instances[toy.instance];
    if (!inst) throw new InputError(`hook '${hook}': toy run ${toy.runDir} has no instance ${toy.instance}`, toy.runDir);
    if (!inst.neurons) return undefined; // linear / relu-out toys have no neurons to label
    const capacity: Record<string, number> = {};
    for (const f of features) {
      const m = /^feature_(\d+)$/.exec(f);
      if (m && inst.capacity[Number(m[1])] !== undefined) capacity[f] = inst.capacity[Number(m[1])]!;
    }
    return { labels: inst.neurons.map((n) => n.label), capacity };
  };
}

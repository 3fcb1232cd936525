/**
 * Synthetic activations with planted features, for tests, notebooks and benchmarks: the truth (which
 * neuron carries which feature) is known by construction, so sweeps and the classifier can be checked
 * against it. Neurons are ReLU(sum_f w_nf * x_f + noise), with x_f = label_f * u, u ~ U[0.5, 1]:
 *  - 'mono' neurons read one feature,
 *  - 'poly' neurons read several features with equal weight,
 *  - 'dead' neurons have a negative bias and never fire,
 *  - 'noise' neurons fire at random and read nothing (labelled dead by the weights: they carry no feature).
 */
import { Rng } from '../lab/core/index.ts';
import type { ProbeData } from '../activations/index.ts';

export interface PlantedNeuron {
  kind: 'mono' | 'poly' | 'dead' | 'noise';
  features: string[];
}

export interface PlantedSpec {
  nSeqs: number;
  seqLen: number;
  /** Per feature: probability that a row is positive. */
  features: Record<string, number>;
  neurons: PlantedNeuron[];
  /** Std of the Gaussian noise added before the ReLU. */
  noise?: number;
  seed: number;
  hook?: string;
}

export interface Planted {
  data: ProbeData;
  /** Weight-based truth: which neuron carries which feature. */
  truth: PlantedNeuron[];
}

export function plantedData(spec: PlantedSpec): Planted {
  const rng = new Rng(spec.seed);
  const names = Object.keys(spec.features);
  const nRows = spec.nSeqs * spec.seqLen;
  const nNeurons = spec.neurons.length;
  const noise = spec.noise ?? 0.1;
  const labels: Record<string, Uint8Array> = {};
  for (const f of names) {
    const y = new Uint8Array(nRows);
    const p = spec.features[f]!;
    for (let r = 0; r < nRows; r++) y[r] = rng.next() < p ? 1 : 0;
    labels[f] = y;
  }
  const seqIds = new Int32Array(nRows);
  const positions = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    seqIds[r] = Math.floor(r / spec.seqLen);
    positions[r] = r % spec.seqLen;
  }
  const X = new Float32Array(nRows * nNeurons);
  const x = new Float64Array(names.length);
  for (let r = 0; r < nRows; r++) {
    for (let j = 0; j < names.length; j++) x[j] = labels[names[j]!]![r] ? 0.5 + 0.5 * rng.next() : 0;
    for (let n = 0; n < nNeurons; n++) {
      const spec_n = spec.neurons[n]!;
      let a = noise * rng.normal();
      if (spec_n.kind === 'dead') a -= 10;
      else if (spec_n.kind === 'noise') a += 0.5 * rng.normal();
      else {
        const w = 1 / Math.sqrt(spec_n.features.length);
        for (const f of spec_n.features) a += w * x[names.indexOf(f)]!;
      }
      X[r * nNeurons + n] = a > 0 ? a : 0;
    }
  }
  return {
    data: { hook: spec.hook ?? 'planted.hook_post', nRows, nNeurons, X, seqIds, positions, labels },
    truth: spec.neurons.map((n) => ({ kind: n.kind, features: n.kind === 'mono' || n.kind === 'poly' ? n.features.slice() : [] })),
  };
}

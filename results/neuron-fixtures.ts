/**
 * A small chain for the neuron pages: a tiny random GPT-2 checkpoint, a store of its hook
 * blocks.0.mlp.hook_post (32 neurons) over token rows whose values are planted (neuron 3 fires on
 * `noun`, neuron 9 on `noun` and `verb`), and the probe and classify runs the lab's own sweep and
 * classifier make of it. Not part of the public API.
 */
import { join, resolve } from 'node:path';
import { Rng, RunDir } from '../lab/core/index.ts';
import { encodeStore, openActivationStore, readSae, StoreWriter, writeRandomCheckpoint, writeSae } from '../activations/index.ts';
import { classifyProbeRun, labEngine, runSweep, storeSource, writeClassifyRun, type SweepConfig } from '../probes/index.ts';

export const CHAIN_HOOK = 'blocks.0.mlp.hook_post';

export async function writeNeuronChain(root: string): Promise<{ model: string; store: string; probe: string; classify: string }> {
  const model = join(root, 'model'), store = join(root, 'harvest'), probe = join(root, 'probe'), classify = join(root, 'classify');
  writeRandomCheckpoint(model, { architecture: 'gpt2', nLayers: 1, dModel: 8, nHeads: 2, vocabSize: 270, contextLength: 16, std: 0.3, seed: 11 });
  const run = RunDir.begin(store, { kind: 'harvest', seed: 0, config: { planted: true } });
  const w = StoreWriter.open(store, {
    config: { planted: true }, model: { source: 'model', dir: resolve(model), nLayers: 1 },
    dataset: { name: 'planted', level: 'token', features: ['noun', 'verb'], label_columns: ['noun', 'verb'] },
    seed: 0, aggregation: 'none', dtype: 'f16', quantisation: 'none',
    hooks: [{ name: CHAIN_HOOK, n_neurons: 32, row_shape: [32] }],
  }, { chunkRows: 200 });
  const rng = new Rng(2);
  for (let s = 0; s < 60; s++) {
    const T = 12;
    const values = new Float32Array(T * 32), labels = new Uint8Array(T * 2);
    // Printable ASCII bytes so the contexts read as text.
    const tokens = Array.from({ length: T }, () => 65 + rng.int(26));
    for (let t = 0; t < T; t++) {
      const noun = rng.next() < 0.3, verb = !noun && rng.next() < 0.3;
      labels[t * 2] = noun ? 1 : 0;
      labels[t * 2 + 1] = verb ? 1 : 0;
      for (let j = 0; j < 32; j++) values[t * 32 + j] = 0.1 * rng.normal() - 0.05;
      values[t * 32 + 3] += noun ? 2 + 0.3 * rng.normal() : 0;
      values[t * 32 + 9] += noun || verb ? 1 + 0.3 * rng.normal() : 0;
    }
    w.appendSequence({ rows: T, seqIds: s, positions: tokens.map((_, i) => i + 1), tokenIds: tokens, labels, values: [values], tokens: T });
  }
  w.finish();
  run.finish();
  await sweepAndClassify(store, probe, classify);
  return { model, store, probe, classify };
}

/** The lab's sweep (mean_dif, k = 1, 2, 4) and classifier over a store, into `probe` and `classify`. */
async function sweepAndClassify(store: string, probe: string, classify: string): Promise<void> {
  const source = storeSource(store);
  const engine = labEngine({ timeLimitS: 5 });
  const config: SweepConfig = {
    activations: source.dir, features: 'all', hooks: '*', methods: ['mean_dif'], ks: [1, 2, 4], ksExplicit: true,
    testFrac: 0.3, seed: 0, minPosTrain: 10, minPosTest: 2, fit: { C: 1, classWeight: 'balanced', fitter: 'newton' },
  };
  await runSweep(config, { outDir: probe, source, engine, silent: true, restart: true, threads: 1 });
  const res = classifyProbeRun(probe, { source, engine }, { rotations: 0, seed: 0 });
  writeClassifyRun(classify, res, { seed: 0, config: { probes: resolve(probe) } });
}

/** latent j of the chain's SAE reads neuron LATENT_PERM[j]: a reversal, so latent 28 is neuron 3, latent 22 neuron 9. */
export const LATENT_PERM = Array.from({ length: 32 }, (_, j) => 31 - j);

/**
 * The chain's store seen through an SAE: a relu-l1 SAE whose latents are the neurons, permuted
 * (W_enc = P, W_dec = P^T, zero biases), so latent j = ReLU(neuron LATENT_PERM[j]) and the planted
 * neurons reappear as known latents. Encoded with `lab sae encode`'s encodeStore, then probed and
 * classified as the neuron chain (also a probe run alone, for the probe-run side of a comparison).
 */
export async function writeLatentChain(root: string, chain: { store: string }): Promise<{ sae: string; store: string; probe: string; classify: string }> {
  const sae = join(root, 'sae'), store = join(root, 'latents'), probe = join(root, 'latent-probe'), classify = join(root, 'latent-classify');
  const d = 32;
  const W_enc = new Float32Array(d * d), W_dec = new Float32Array(d * d);
  LATENT_PERM.forEach((n, j) => {
    W_enc[n * d + j] = 1;
    W_dec[j * d + n] = 1;
  });
  writeSae(sae, { arch: 'relu-l1', dIn: d, dSae: d, k: 0, W_enc, b_enc: new Float32Array(d), W_dec, b_dec: new Float32Array(d) }, { hookName: CHAIN_HOOK });
  encodeStore(readSae(sae), openActivationStore(chain.store), store);
  await sweepAndClassify(store, probe, classify);
  return { sae, store, probe, classify };
}

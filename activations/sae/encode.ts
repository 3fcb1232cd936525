/**
 * SAE latents as an activation store: the source store's rows, labels and dataset, with one hook,
 * `<hook>.hook_sae_acts_post` (SAELens's name for the latent activations), of width d_sae. The result is
 * a harvest run directory like any other, so `lab probe`, `lab classify` and the neuron pages read
 * latents exactly as they read neurons. Streams chunk by chunk; a killed run resumes after its last
 * whole chunk (the StoreWriter's contract).
 */
import { join, resolve } from 'node:path';
import { unlockRunDir } from '../../lab/core/index.ts';
import { beginStoreRun, type HookEncoder } from '../harvest.ts';
import { openActivationStore, type ActivationStore, type StoreHook } from '../store/index.ts';
import { checkSaeForStore } from './evaluate.ts';
import { SAE_CFG, type LoadedSae } from './layout.ts';
import { encodeLatents } from './model.ts';

export const LATENT_HOOK_SUFFIX = '.hook_sae_acts_post';

export interface EncodeResult {
  dir: string;
  hook: string;
  rows: number;
  alreadyComplete: boolean;
}

/** What a latent store records about its SAE (manifest model.sae; harvest --sae also in its config). */
function saeInfo(loaded: LoadedSae): Record<string, unknown> {
  return { dir: resolve(loaded.dir), arch: loaded.sae.arch, d_in: loaded.sae.dIn, d_sae: loaded.sae.dSae, hook: loaded.meta.hookName };
}

/**
 * The SAE as a harvest encoder (`lab harvest --sae DIR`): the harvester runs only the SAE's hook and
 * stores its latents under `<hook>.hook_sae_acts_post`, the same rows `encodeStore` writes from a
 * neuron store of that hook (tested equal in encode.test.ts).
 */
export function saeHookEncoder(loaded: LoadedSae): HookEncoder {
  const hook = loaded.meta.hookName;
  return {
    hook, inputWidth: loaded.sae.dIn, name: hook + LATENT_HOOK_SUFFIX, width: loaded.sae.dSae,
    kind: 'sae', info: saeInfo(loaded), file: join(loaded.dir, SAE_CFG),
    encode: (x, rows) => encodeLatents(loaded.sae, x, rows),
  };
}

export function encodeStore(loaded: LoadedSae, store: ActivationStore, out: string, opts: { command?: string; overwrite?: boolean } = {}): EncodeResult {
  const hook = checkSaeForStore(loaded, store);
  const latentHook = hook + LATENT_HOOK_SUFFIX;
  const src = store.manifest;
  const h = src.hooks.find((x) => x.name === hook)!;
  const hooks: StoreHook[] = [{ name: latentHook, n_neurons: loaded.sae.dSae, row_shape: [loaded.sae.dSae], ...(h.instance !== undefined ? { instance: h.instance, label_prefix: h.label_prefix } : {}) }];
  const config = { source: 'sae', sae_dir: resolve(loaded.dir), sae_hook: hook, store: resolve(store.dir), store_config_hash: src.config_hash };
  const maxRows = Math.max(...src.chunks.map((c) => c.rows), 1);
  const { writer, run } = beginStoreRun(out, {
    config, model: { ...src.model, sae: saeInfo(loaded) },
    dataset: src.dataset, seed: src.seed, aggregation: src.aggregation, dtype: 'f32', quantisation: 'none', hooks,
    ...(src.toy ? { toy: src.toy } : {}),
  }, maxRows, { seed: src.seed, command: opts.command, overwrite: opts.overwrite });
  if (!run) return { dir: out, hook: latentHook, rows: writer.manifest.total_rows, alreadyComplete: true };
  const labels = store.labelsTable();
  const cols = src.dataset.label_columns.map((c) => labels.array(c) as Uint8Array);
  const C = cols.length;
  let at = 0, seq = 0;
  for (const ch of store.chunks(hook)) {
    const acts = encodeLatents(loaded.sae, ch.values, ch.rows);
    // Whole sequences only: runs of equal seq_id (a sequence's rows are contiguous in a chunk).
    for (let r0 = 0; r0 < ch.rows;) {
      let r1 = r0 + 1;
      while (r1 < ch.rows && ch.seqIds[r1] === ch.seqIds[r0]) r1++;
      const n = r1 - r0;
      if (seq++ >= writer.resumedSequences) {
        const lb = new Uint8Array(n * C);
        for (let r = 0; r < n; r++) for (let j = 0; j < C; j++) lb[r * C + j] = cols[j]![at + r0 + r]!;
        writer.appendSequence({
          rows: n, seqIds: ch.seqIds.subarray(r0, r1), positions: ch.positions.subarray(r0, r1), tokenIds: ch.tokenIds.subarray(r0, r1),
          labels: lb, values: [acts.subarray(r0 * loaded.sae.dSae, r1 * loaded.sae.dSae)], tokens: n,
        });
      }
      r0 = r1;
    }
    at += ch.rows;
  }
  const m = writer.finish();
  run.manifest.files = ['store.json', 'acts/', 'rows/', 'labels/'];
  run.finish({ rows: m.total_rows, sae_dir: resolve(loaded.dir) });
  unlockRunDir(out);
  openActivationStore(out); // the result must open as a store
  return { dir: out, hook: latentHook, rows: m.total_rows, alreadyComplete: false };
}

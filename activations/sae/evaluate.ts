/**
 * evaluateSae: an SAE folder against a store's hook (reconstruction, sparsity) and, for a toy store or
 * --truth toy:RUN, against the toy's known feature directions. Checks first that the SAE belongs to the
 * hook: same hook name (cfg.json's hook_name) and d_in equal to the hook's width.
 */
import { join } from 'node:path';
import { InputError, UsageError } from '../../lab/core/index.ts';
import type { ActivationStore } from '../store/index.ts';
import { importances, loadToyRun, REPRESENTED_NORM } from '../toy/index.ts';
import { ReconAccumulator, truthMetrics, type ReconMetrics, type TruthMetrics } from './eval.ts';
import { SAE_CFG, type LoadedSae } from './layout.ts';

export interface SaeEvalResult {
  sae_dir: string;
  hook: string;
  arch: string;
  d_in: number;
  d_sae: number;
  recon: ReconMetrics;
  /** The hook's mean over the rows evaluated (for mean ablation); not printed. */
  inputMean: Float32Array;
  truth?: TruthMetrics & { toy_run: string; instance: number };
}

/** The hook of the store this SAE reads, refusing another hook's SAE or a width mismatch. */
export function checkSaeForStore(loaded: LoadedSae, store: ActivationStore, hookFlag?: string): string {
  const hook = hookFlag ?? loaded.meta.hookName;
  const cfgPath = join(loaded.dir, SAE_CFG);
  if (hookFlag !== undefined && hookFlag !== loaded.meta.hookName) {
    throw new InputError(`${cfgPath} is an SAE for hook '${loaded.meta.hookName}', not --hook '${hookFlag}'`, cfgPath);
  }
  const h = store.manifest.hooks.find((x) => x.name === hook);
  if (!h) {
    throw new InputError(`${cfgPath} is an SAE for hook '${hook}', which the store ${store.dir} does not hold (it holds: ${store.hooks.join(', ')})`, cfgPath);
  }
  if (h.n_neurons !== loaded.sae.dIn) {
    throw new InputError(`${cfgPath}: d_in ${loaded.sae.dIn} differs from the width of '${hook}' in ${store.dir} (${h.n_neurons})`, cfgPath);
  }
  return hook;
}

/** Toy truth: the instance's W rows (features x hidden) and importances, for hook instance.I.hook_*. */
export function toyTruth(runDir: string, hook: string, dIn: number): { W: number[][]; importance: Float32Array; instance: number; dir: string } {
  const run = loadToyRun(runDir);
  const m = /^instance\.(\d+)\.hook_(hidden|neurons)$/.exec(hook);
  if (!m) throw new UsageError(`--truth toy:${runDir} needs an SAE on a toy hook (instance.I.hook_hidden); this one reads '${hook}'`, 'truth');
  const instance = Number(m[1]);
  const inst = run.instances[instance];
  if (!inst) throw new UsageError(`--truth toy:${runDir} has instances 0..${run.instances.length - 1}; the SAE reads instance ${instance}`, 'truth');
  if (inst.W[0]!.length !== dIn) throw new UsageError(`--truth toy:${runDir}: its hidden width ${inst.W[0]!.length} differs from the SAE's d_in ${dIn}`, 'truth');
  return { W: inst.W, importance: importances(run.config), instance, dir: runDir };
}

export function evaluateSae(loaded: LoadedSae, store: ActivationStore, opts: { hook?: string; truth?: string; maxRows?: number } = {}): SaeEvalResult {
  const hook = checkSaeForStore(loaded, store, opts.hook);
  const acc = new ReconAccumulator(loaded.sae);
  let seen = 0;
  for (const ch of store.chunks(hook)) {
    const rows = opts.maxRows !== undefined ? Math.min(ch.rows, opts.maxRows - seen) : ch.rows;
    if (rows <= 0) break;
    for (let t = 0; t < rows * ch.nNeurons; t++) {
      if (!Number.isFinite(ch.values[t]!)) throw new InputError(`${store.dir}: chunk ${ch.index} of '${hook}' holds a non-finite activation`, store.dir);
    }
    acc.add(ch.values.subarray(0, rows * ch.nNeurons), rows);
    seen += rows;
  }
  const out: SaeEvalResult = { sae_dir: loaded.dir, hook, arch: loaded.sae.arch, d_in: loaded.sae.dIn, d_sae: loaded.sae.dSae, recon: acc.result(), inputMean: acc.inputMean() };
  const truthDir = opts.truth ?? store.manifest.toy?.run_dir;
  if (truthDir !== undefined) {
    const t = toyTruth(truthDir, hook, loaded.sae.dIn);
    out.truth = { ...truthMetrics(t.W, t.W.length, loaded.sae, t.importance, REPRESENTED_NORM), toy_run: t.dir, instance: t.instance };
  }
  return out;
}

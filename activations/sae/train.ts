/**
 * Trains an SAE on one hook of an activation store, streaming its chunks: memory holds one chunk and one
 * batch. The data order is a function of (seed, step) alone: epoch after epoch over the chunks in order,
 * each chunk's rows in a permutation seeded by (seed, epoch, chunk), so a run killed and resumed from its
 * checkpoint sees exactly the rows it would have seen, and the final weights are the same.
 *
 * Optimiser: Adam (betas 0.9/0.999, eps 1e-8, no weight decay), as SAELens. Decoder rows are kept at
 * unit norm: the gradient's component along each row is removed before the step and the rows are
 * renormalised after it (as dictionary_learning's trainers and SAELens's normalize_sae_decoder did).
 * Dead latents: a latent that has not fired for `deadWindow` steps is dead (SAELens's
 * dead_feature_window, counted in steps). topk revives them with the AuxK loss; relu-l1 and jumprelu by
 * resampling every `deadWindow` steps: a dead latent's decoder row becomes the normalised residual of a
 * batch row drawn with probability proportional to its squared error (Anthropic, "Towards
 * Monosemanticity"), its encoder column that row times 0.2, its encoder bias 0 and its Adam state reset.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { configHash, type ActivationStore } from '../store/index.ts';
import { InputError, NumericError, Progress, readJson, Rng, RunDir, UsageError, writeFileAtomic, type Manifest } from '../../lab/core/index.ts';
import { encodeSafetensors, SafetensorsFile, type TensorToWrite } from '../models/index.ts';
import { DEFAULT_COEFFICIENTS, lossAndGrad, zeroGrads, type LossCoefficients, type Sae, type SaeArch, type SaeGrads } from './model.ts';
import { SAE_CFG, SAE_WEIGHTS, encodeSae } from './layout.ts';

export interface SaeTrainConfig {
  hook: string;
  arch: SaeArch;
  latents: number;
  k: number;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  deadWindow: number;
  coefficients: LossCoefficients;
  /** jumprelu: the initial threshold (SAELens's jumprelu_init_threshold). */
  initThreshold: number;
}

export interface SaeTrainOptions {
  out: string;
  command?: string;
  silent?: boolean;
  /** Steps between checkpoints (default: every 500 steps or 10 s, whichever comes first). */
  checkpointEvery?: number;
  /** Stop after this many steps of this call (tests use it to simulate a kill). */
  stopAfter?: number;
}

export interface SaeTrainResult {
  dir: string;
  sae: Sae;
  alreadyComplete: boolean;
  resumedFromStep: number;
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  final: { mse: number; l0: number; dead_fraction: number };
}

const CHECKPOINT = 'checkpoint.safetensors';
export const SAE_RUN_KIND = 'sae';

export function defaultSaeConfig(partial: Partial<SaeTrainConfig> & Pick<SaeTrainConfig, 'hook' | 'arch' | 'latents'>): SaeTrainConfig {
  return {
    k: 4, steps: 2000, batch: 1024, lr: 1e-3, seed: 0, deadWindow: 200, initThreshold: 0.001, ...partial,
    coefficients: { ...DEFAULT_COEFFICIENTS, ...partial.coefficients },
  };
}

/** Checks flags against the store: width, k, positive sizes. */
export function checkConfig(c: SaeTrainConfig, dIn: number): void {
  if (!Number.isInteger(c.latents) || c.latents < 1) throw new UsageError(`--latents must be a positive integer, got ${c.latents}`, 'latents');
  if (c.arch === 'topk' && !(Number.isInteger(c.k) && c.k >= 1 && c.k <= c.latents)) {
    throw new UsageError(`--k ${c.k} must be in 1..--latents (${c.latents})`, 'k');
  }
  if (!(c.lr > 0 && Number.isFinite(c.lr))) throw new UsageError(`--lr must be > 0, got ${c.lr}`, 'lr');
  if (dIn < 1) throw new InputError(`hook '${c.hook}' has no values per row`);
}

export function initSae(c: SaeTrainConfig, dIn: number): Sae {
  const rng = new Rng(c.seed).fork(0x5ae);
  const W_dec = new Float32Array(c.latents * dIn);
  for (let t = 0; t < W_dec.length; t++) W_dec[t] = 2 * rng.next() - 1;
  normaliseRows(W_dec, c.latents, dIn);
  // W_enc = W_dec^T, as SAELens initialises it.
  const W_enc = new Float32Array(dIn * c.latents);
  for (let j = 0; j < c.latents; j++) for (let i = 0; i < dIn; i++) W_enc[i * c.latents + j] = W_dec[j * dIn + i]!;
  return {
    arch: c.arch, dIn, dSae: c.latents, k: c.arch === 'topk' ? c.k : 0, W_enc, b_enc: new Float32Array(c.latents), W_dec, b_dec: new Float32Array(dIn),
    ...(c.arch === 'jumprelu' ? { threshold: new Float32Array(c.latents).fill(c.initThreshold) } : {}),
  };
}

export function normaliseRows(W: Float32Array, rows: number, cols: number): void {
  for (let j = 0; j < rows; j++) {
    let s = 0;
    for (let i = 0; i < cols; i++) s += W[j * cols + i]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < cols; i++) W[j * cols + i] *= inv;
  }
}

/** Rows `from`.. of the endless epoch-major stream, `batch` at a time, reading one chunk at a time. */
export function* batchStream(store: ActivationStore, hook: string, batch: number, seed: number, fromBatch: number): Generator<Float32Array> {
  const chunks = store.manifest.chunks;
  const total = store.manifest.total_rows;
  const h = store.manifest.hooks.find((x) => x.name === hook);
  if (!h) throw new UsageError(`hook '${hook}' is not in the store ${store.dir}; it holds: ${store.hooks.join(', ')}`, 'hook');
  if (total < 1) throw new InputError(`${store.dir} holds no rows`, store.dir);
  const d = h.n_neurons;
  let pos = fromBatch * batch;
  let epoch = Math.floor(pos / total);
  pos -= epoch * total;
  let ci = 0;
  while (pos >= chunks[ci]!.rows) pos -= chunks[ci++]!.rows;
  const out = new Float32Array(batch * d);
  let filled = 0;
  for (;;) {
    // The store yields chunks in order; chunks before the resume point are read and skipped once.
    let i = 0;
    for (const ch of store.chunks(hook)) {
      if (i++ < ci) continue;
      checkFinite(store, hook, ch.index, ch.values, d);
      const perm = Array.from({ length: ch.rows }, (_, r) => r);
      new Rng(seed).fork(epoch).fork(ch.index).shuffle(perm);
      for (; pos < ch.rows; pos++) {
        out.set(ch.values.subarray(perm[pos]! * d, perm[pos]! * d + d), filled * d);
        if (++filled === batch) {
          yield out;
          filled = 0;
        }
      }
      pos = 0;
    }
    ci = 0;
    epoch++;
  }
}

/** Refuses NaN or infinite activations, naming the chunk's file and row. */
function checkFinite(store: ActivationStore, hook: string, index: number, v: Float32Array, d: number): void {
  for (let t = 0; t < v.length; t++) {
    if (!Number.isFinite(v[t]!)) {
      const c = store.manifest.chunks.find((x) => x.index === index)!;
      const file = join(store.dir, c.files.hooks[hook]!.data);
      throw new InputError(`${file}: row ${Math.floor(t / d)} holds a non-finite activation (${v[t]}); an SAE cannot train on it`, file);
    }
  }
}

export interface Adam {
  m: SaeGrads;
  v: SaeGrads;
}

const PARAMS = ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold'] as const;

export function adamStep(sae: Sae, g: SaeGrads, opt: Adam, lr: number, t: number, logTh: Float32Array | undefined): void {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t;
  const { dSae, dIn, W_dec } = sae;
  // Remove each decoder row's gradient component along the row (unit-norm constraint).
  for (let j = 0; j < dSae; j++) {
    let dot = 0;
    for (let i = 0; i < dIn; i++) dot += g.W_dec[j * dIn + i]! * W_dec[j * dIn + i]!;
    for (let i = 0; i < dIn; i++) g.W_dec[j * dIn + i] -= dot * W_dec[j * dIn + i]!;
  }
  if (logTh) for (let j = 0; j < dSae; j++) g.threshold[j] *= sae.threshold![j]!; // d/dlog(theta) = theta d/dtheta
  for (const name of PARAMS) {
    if (name === 'threshold' && !logTh) continue;
    const p = name === 'threshold' ? logTh! : sae[name];
    const gr = g[name], m = opt.m[name], v = opt.v[name];
    for (let t2 = 0; t2 < p.length; t2++) {
      const gi = gr[t2]!;
      m[t2] = b1 * m[t2]! + (1 - b1) * gi;
      v[t2] = b2 * v[t2]! + (1 - b2) * gi * gi;
      p[t2] -= (lr * (m[t2]! / c1)) / (Math.sqrt(v[t2]! / c2) + eps);
    }
  }
  if (logTh) for (let j = 0; j < dSae; j++) sae.threshold![j] = Math.exp(logTh[j]!);
  normaliseRows(sae.W_dec, dSae, dIn);
}

function resample(sae: Sae, dead: Uint8Array, x: Float32Array, recon: Float32Array, rows: number, rng: Rng, opt: Adam): number {
  const { dIn, dSae } = sae;
  const err = new Float64Array(rows);
  let tot = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dIn; i++) err[r] += (x[r * dIn + i]! - recon[r * dIn + i]!) ** 2;
    tot += err[r]!;
  }
  if (!(tot > 0)) return 0;
  let n = 0;
  for (let j = 0; j < dSae; j++) {
    if (!dead[j]) continue;
    let u = rng.next() * tot, r = 0;
    while (r < rows - 1 && (u -= err[r]!) > 0) r++;
    const row = new Float32Array(dIn);
    for (let i = 0; i < dIn; i++) row[i] = x[r * dIn + i]! - recon[r * dIn + i]!;
    normaliseRows(row, 1, dIn);
    for (let i = 0; i < dIn; i++) {
      sae.W_dec[j * dIn + i] = row[i]!;
      sae.W_enc[i * dSae + j] = 0.2 * row[i]!;
      for (const s of [opt.m, opt.v]) { s.W_dec[j * dIn + i] = 0; s.W_enc[i * dSae + j] = 0; }
    }
    sae.b_enc[j] = 0;
    opt.m.b_enc[j] = opt.v.b_enc[j] = 0;
    n++;
  }
  return n;
}

function historyCsv(rows: number[][]): string {
  return 'step,loss,mse,l0,dead_fraction\n' + rows.map((r) => r.map((v) => String(+v.toPrecision(7))).join(',')).join('\n') + '\n';
}

export async function trainSae(store: ActivationStore, config: SaeTrainConfig, opts: SaeTrainOptions): Promise<SaeTrainResult> {
  const t0 = performance.now();
  const h = store.manifest.hooks.find((x) => x.name === config.hook);
  if (!h) throw new UsageError(`--hook '${config.hook}' is not in the store ${store.dir}; it holds: ${store.hooks.join(', ')}`, 'hook');
  const dIn = h.n_neurons;
  checkConfig(config, dIn);
  const runConfig = { ...config, activations: store.dir, store_config_hash: store.manifest.config_hash, d_in: dIn } as unknown as Record<string, unknown>;
  const hash = configHash(runConfig);
  const mPath = join(opts.out, 'manifest.json');
  const modelName = String((store.manifest.model as Record<string, unknown>).name ?? (store.manifest.model as Record<string, unknown>).run_dir ?? '');
  const meta = { hookName: config.hook, modelName: modelName || undefined };

  let prior: Manifest | undefined;
  if (existsSync(mPath)) {
    prior = readJson<Manifest>(mPath);
    if (prior.kind !== SAE_RUN_KIND || configHash(prior.config) !== hash) {
      throw new UsageError(`--out ${opts.out} holds a different run (${prior.kind}, other settings); choose another --out or delete it`, 'out');
    }
    if (prior.status === 'complete') {
      const { readSae } = await import('./layout.ts');
      const s = readSae(opts.out).sae;
      const fin = (prior as unknown as { final: SaeTrainResult['final'] }).final;
      return { dir: opts.out, sae: s, alreadyComplete: true, resumedFromStep: config.steps, steps: 0, seconds: 0, stepsPerSecond: 0, final: fin };
    }
  }
  const run = RunDir.begin(opts.out, { kind: SAE_RUN_KIND, seed: config.seed, config: runConfig, command: opts.command });

  let sae = initSae(config, dIn);
  let opt: Adam = { m: zeroGrads(sae), v: zeroGrads(sae) };
  const since = new Int32Array(config.latents);
  let step = 0;
  let history: number[][] = [];
  const ckPath = join(opts.out, CHECKPOINT);
  if (prior && existsSync(ckPath)) ({ sae, opt, step, history } = loadCheckpoint(ckPath, sae, since, hash));
  const resumedFromStep = step;
  const logTh = sae.threshold ? Float32Array.from(sae.threshold, Math.log) : undefined;

  const saveCheckpoint = () => {
    const t = new Map<string, TensorToWrite>();
    for (const name of PARAMS) {
      if (name === 'threshold' && !sae.threshold) continue;
      t.set(name, { dtype: 'f32', shape: [sae[name]!.length], data: sae[name]! });
      t.set(`adam_m.${name}`, { dtype: 'f32', shape: [opt.m[name].length], data: opt.m[name] });
      t.set(`adam_v.${name}`, { dtype: 'f32', shape: [opt.v[name].length], data: opt.v[name] });
    }
    t.set('steps_since_fired', { dtype: 'f32', shape: [since.length], data: Float32Array.from(since) });
    writeFileAtomic(ckPath, encodeSafetensors(t, { step: String(step), config_hash: hash, history: JSON.stringify(history) }));
  };

  const progress = new Progress({ label: 'sae', total: config.steps - step, unit: 'steps', silent: opts.silent });
  const stream = batchStream(store, config.hook, config.batch, config.seed, step);
  const g = zeroGrads(sae);
  const dead = new Uint8Array(config.latents);
  const every = opts.checkpointEvery ?? 500;
  let lastCk = performance.now(), firstLoss = NaN, stats = { mse: NaN, l0: NaN, loss: NaN };
  const tStart = performance.now();
  const startStep = step;
  while (step < config.steps) {
    const x = stream.next().value as Float32Array;
    for (let j = 0; j < config.latents; j++) dead[j] = since[j]! > config.deadWindow ? 1 : 0;
    for (const name of PARAMS) g[name].fill(0);
    const s = lossAndGrad(sae, x, config.batch, config.coefficients, g, dead);
    if (!Number.isFinite(s.loss) || (step > 50 && s.loss > 1e4 * Math.max(firstLoss, 1e-12))) {
      throw new NumericError(`sae training diverged at step ${step}: loss ${s.loss} (first ${firstLoss}); lower --lr (now ${config.lr}). ${opts.out} stays partial; no SAE was written`);
    }
    if (step === startStep) firstLoss = s.loss;
    for (let j = 0; j < config.latents; j++) since[j]++;
    for (let t = 0; t < s.codes.idx.length; t++) since[s.codes.idx[t]!] = 0;
    step++;
    adamStep(sae, g, opt, config.lr, step, logTh);
    if (config.arch !== 'topk' && step % config.deadWindow === 0) {
      let any = 0;
      for (let j = 0; j < config.latents; j++) any += dead[j]!;
      if (any) resample(sae, dead, x, s.recon, config.batch, new Rng(config.seed).fork(0x7e5).fork(step), opt); // seeded by step: resumable
      for (let j = 0; j < config.latents; j++) if (dead[j]) since[j] = 0;
    }
    stats = s;
    let nDead = 0;
    for (let j = 0; j < config.latents; j++) nDead += since[j]! > config.deadWindow ? 1 : 0;
    if (step % 50 === 0 || step === config.steps) history.push([step, s.loss, s.mse, s.l0, nDead / config.latents]);
    progress.update(step - resumedFromStep, `L0 ${s.l0.toFixed(2)} mse ${s.mse.toPrecision(3)} dead ${(nDead / config.latents).toFixed(3)}`);
    if (step < config.steps && (step % every === 0 || performance.now() - lastCk > 10_000)) {
      saveCheckpoint();
      lastCk = performance.now();
    }
    if (opts.stopAfter !== undefined && step - startStep >= opts.stopAfter && step < config.steps) {
      saveCheckpoint();
      throw new SaeStopped(step);
    }
  }
  progress.finish();
  const seconds = (performance.now() - tStart) / 1000;
  const { cfg, weights } = encodeSae(sae, meta);
  run.write(SAE_WEIGHTS, weights);
  run.write(SAE_CFG, cfg);
  run.write('history.csv', historyCsv(history));
  let nDead = 0;
  for (let j = 0; j < config.latents; j++) nDead += since[j]! > config.deadWindow ? 1 : 0;
  const final = { mse: stats.mse, l0: stats.l0, dead_fraction: nDead / config.latents };
  run.timing('train_s', (performance.now() - t0) / 1000);
  run.finish({ final, resumed_from_step: resumedFromStep, steps_per_second: (step - startStep) / Math.max(seconds, 1e-9) });
  rmSync(ckPath, { force: true });
  return { dir: opts.out, sae, alreadyComplete: false, resumedFromStep, steps: step - startStep, seconds, stepsPerSecond: (step - startStep) / Math.max(seconds, 1e-9), final };
}

/** Thrown by `stopAfter` (a simulated kill): the checkpoint is written, the run is partial. */
export class SaeStopped extends Error {
  constructor(readonly step: number) {
    super(`stopped at step ${step}`);
  }
}

function loadCheckpoint(path: string, init: Sae, since: Int32Array, hash: string): { sae: Sae; opt: Adam; step: number; history: number[][] } {
  const f = SafetensorsFile.open(path);
  try {
    if (f.metadata.config_hash !== hash) throw new InputError(`${path} belongs to other settings; delete it to restart`, path);
    const sae: Sae = { ...init };
    const opt: Adam = { m: zeroGrads(init), v: zeroGrads(init) };
    for (const name of PARAMS) {
      if (name === 'threshold' && !init.threshold) continue;
      const want = init[name]!.length;
      const read = (n: string) => {
        const v = f.readF32(n);
        if (v.length !== want) throw new InputError(`${path}: ${n} has ${v.length} values, expected ${want}`, path);
        return v;
      };
      sae[name] = read(name);
      opt.m[name] = read(`adam_m.${name}`);
      opt.v[name] = read(`adam_v.${name}`);
    }
    since.set(Int32Array.from(f.readF32('steps_since_fired')));
    return { sae, opt, step: Number(f.metadata.step), history: JSON.parse(f.metadata.history ?? '[]') as number[][] };
  } finally {
    f.close();
  }
}


/**
 * Trains the lab's GPT-2 (activations/models, the one definition shared with loading and harvesting) on
 * the Brown corpus: AdamW, warmup + cosine decay, global-norm clipping, periodic held-out loss, and
 * checkpoints in the Hugging Face layout during and after training.
 */
import { join } from 'node:path';
import { createGpt2, writeCheckpoint, type Gpt2 } from '../../activations/index.ts';
import { tf } from '../core/backend.ts';
import { NumericError, UsageError } from '../core/index.ts';
import { Progress } from '../core/index.ts';
import { Rng } from '../core/index.ts';
import { AdamW } from './adamw.ts';
import { evaluateGpt2, lossReport, type LossReport } from './evaluate.ts';
import { GradWorker } from './grad-pool.ts';
import { batchGrads } from './grads.ts';
import { lrAt, scheduleProgress } from './schedule.ts';
import { installPlainTransposedMatMul } from './wasm-matmul.ts';
import { flatten, gatherWindows, randomWindows, tilingWindows, type FlatStream } from './windows.ts';

export interface LmTrainConfig {
  layers: number;
  dModel: number;
  heads: number;
  context: number;
  steps: number;
  batch: number;
  lr: number;
  /** Final learning rate as a fraction of lr. */
  minLrRatio: number;
  warmup: number;
  weightDecay: number;
  /** Global gradient-norm clip (0: none). */
  clip: number;
  seed: number;
  /**
   * Budget of the whole run in minutes of this process's CPU time (user + system, so it means the same on
   * a shared machine as on an idle one, where it equals wall time: the wasm backend runs on one thread).
   * The loop ends, and the cosine decay with it, in time for the final evaluation and save.
   */
  minutes: number;
  /** Optional cap in wall-clock minutes from `startedAt`, for a machine so loaded that CPU time crawls. */
  wallMinutes?: number;
  /** Held-out loss on the evaluation subset every this many steps (0: never). */
  evalEvery: number;
  /** Windows in the periodic evaluation subset (spread evenly over the held-out stream). */
  evalWindows: number;
  /**
   * Points of progress in [0, 1) (the schedule's: step or time fraction, whichever is larger) at which
   * an intermediate checkpoint is written to checkpoints/step-N; 0 saves the initial weights.
   */
  checkpointAt: number[];
  dtype: 'f32' | 'f16';
  /**
   * Threads computing gradients (1 or 2): with 2, a worker thread (lab/lm/grad-pool.ts) takes half of
   * every batch. The CPU budget (`minutes`) is then per thread: minutes x threads of process CPU time.
   */
  threads?: number;
}

export interface TrainData {
  vocabSize: number;
  trainStreams: number[][];
  heldOutStreams: number[][];
  heldOutBytes: number;
  tokenizerJson: Record<string, unknown>;
}

export interface HistoryRow {
  step: number;
  lr: number;
  train_loss: number;
  held_out_loss: number | null;
  seconds: number;
  cpu_seconds: number;
}

export interface CheckpointRecord {
  step: number;
  dir: string;
  tokens_seen: number;
  /** Loss on the periodic evaluation subset (nats/token), not the full held-out set. */
  held_out_subset_loss: number;
}

export interface TrainResult {
  model: Gpt2;
  history: HistoryRow[];
  checkpoints: CheckpointRecord[];
  stepsDone: number;
  stoppedEarly: boolean;
  heldOut: LossReport;
  trainSeconds: number;
  params: number;
}

export interface TrainHooks {
  silent?: boolean;
  /** performance.now() when the run began (corpus preparation counts against the budget); default: now. */
  startedAt?: number;
  /** cpuSeconds() when the run began; default: 0, the process start. */
  startedCpu?: number;
  /** A line of news (held-out loss, checkpoints) for stderr. */
  log?: (line: string) => void;
}

/** CPU seconds this process has used (all its threads). */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export function saveCheckpoint(dir: string, model: Gpt2, tokenizerJson: unknown, dtype: 'f32' | 'f16'): void {
  writeCheckpoint(dir, { config: model.hfConfig(), tensors: model.toTensors(dtype), tokenizerJson });
}

function globalNormClip(grads: Record<string, tf.Tensor>, clip: number): number {
  const norm = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
  if (clip > 0 && norm > clip) {
    for (const k of Object.keys(grads)) {
      const g = grads[k]!;
      grads[k] = tf.mul(g, clip / norm);
      g.dispose();
    }
  }
  return norm;
}

export async function trainLm(data: TrainData, cfg: LmTrainConfig, outDir: string, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? ((l: string) => hooks.silent || process.stderr.write(l + '\n'));
  if (tf.getBackend() === 'wasm') installPlainTransposedMatMul();
  const model = createGpt2(
    { nLayers: cfg.layers, dModel: cfg.dModel, nHeads: cfg.heads, vocabSize: data.vocabSize, contextLength: cfg.context },
    undefined,
    { seed: cfg.seed },
  );
  const params = [...model.variables.values()].reduce((s, v) => s + v.size, 0);
  const opt = new AdamW(model.variables, { weightDecay: cfg.weightDecay });
  const schedule = { lr: cfg.lr, warmup: cfg.warmup, minLr: cfg.lr * cfg.minLrRatio };

  const train: FlatStream = flatten(data.trainStreams);
  const held: FlatStream = flatten(data.heldOutStreams);
  const allHeld = tilingWindows(held.ids.length, cfg.context).filter((w) => w.len === cfg.context);
  const stride = Math.max(1, Math.floor(allHeld.length / Math.max(1, cfg.evalWindows)));
  const evalSubset = allHeld.filter((_, i) => i % stride === 0).slice(0, cfg.evalWindows);
  const rng = new Rng(cfg.seed).fork(1);

  const history: HistoryRow[] = [];
  const checkpoints: CheckpointRecord[] = [];
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  const threads = cfg.batch > 1 ? Math.max(1, Math.min(2, cfg.threads ?? 1)) : 1;
  const cpuEnd = (hooks.startedCpu ?? 0) + cfg.minutes * 60 * threads;
  const wallEnd = cfg.wallMinutes !== undefined ? (hooks.startedAt ?? start) / 1000 + cfg.wallMinutes * 60 : Infinity;
  let evalCpu = 0;
  let evalWall = 0;
  const evalSubsetLoss = () => {
    const c0 = cpuSeconds();
    const t0 = performance.now();
    const s = evaluateGpt2(model, held, { windows: evalSubset });
    evalCpu = cpuSeconds() - c0;
    evalWall = (performance.now() - t0) / 1000;
    return s.nats / s.targets;
  };
  const checkpoint = (step: number, heldLoss: number) => {
    const dir = join(outDir, 'checkpoints', `step-${step}`);
    // f16: these exist for curves over training (e.g. loss against compressed size), where f16 rounding is negligible.
    saveCheckpoint(dir, model, data.tokenizerJson, 'f16');
    checkpoints.push({ step, dir: join('checkpoints', `step-${step}`), tokens_seen: step * cfg.batch * cfg.context, held_out_subset_loss: heldLoss });
    log(`checkpoint step ${step}: held-out subset loss ${heldLoss.toFixed(4)} -> ${dir}`);
  };
  // Times the subset evaluation (for the budget's reserve) and, if asked, saves the initial weights.
  evalSubsetLoss(); // the first pass also compiles the kernels: time a second one
  const initialLoss = evalSubsetLoss();
  const pending = [...new Set(cfg.checkpointAt)].filter((f) => f >= 0 && f < 1).sort((a, b) => a - b);
  if (pending[0] === 0) {
    pending.shift();
    checkpoint(0, initialLoss);
  }

  const bar = new Progress({ label: 'lm train', total: cfg.steps, unit: 'step', silent: hooks.silent });
  let stepsDone = 0;
  let stoppedEarly = false;
  let smooth = NaN;
  // The loop's share of the budget leaves time for the final full held-out evaluation and the saves.
  const scale = allHeld.length / Math.max(1, evalSubset.length);
  const cpu0 = cpuSeconds();
  const wall0 = performance.now() / 1000;
  const cpuSpan = cpuEnd - (evalCpu * scale + 10) - cpu0;
  const wallSpan = wallEnd - (evalWall * scale + 10) - wall0;
  if (process.env.LM_DEBUG) log(`budget: cpu span ${cpuSpan.toFixed(1)} s, wall span ${wallSpan.toFixed(1)} s, eval reserve ${(evalWall * scale).toFixed(1)} s wall`);
  if (cpuSpan <= 0 || wallSpan <= 0) throw new UsageError(`--minutes ${cfg.minutes} leaves no time to train after preparing the corpus`, 'minutes');
  const helper = threads > 1 ? await GradWorker.open(model) : undefined;
  const budgetFraction = () => Math.max((cpuSeconds() - cpu0) / cpuSpan, (performance.now() / 1000 - wall0) / wallSpan);
  try {
    for (let step = 0; step < cfg.steps; step++) {
      const timeFraction = budgetFraction();
      if (step > 0 && timeFraction >= 1) {
        stoppedEarly = true;
        log(`stopping at step ${step} of ${cfg.steps}: the time budget is spent (the decay has finished)`);
        break;
      }
      const lr = lrAt(schedule, step, scheduleProgress(step / cfg.steps, timeFraction, 1 / cfg.steps));
      const { inputs, targets } = gatherWindows(train, randomWindows(train.ids.length, cfg.context, cfg.batch, rng));
      const { loss, grads } = await stepGrads(model, helper, inputs, targets, cfg.batch, cfg.context);
      if (!Number.isFinite(loss)) {
        tf.dispose(Object.values(grads));
        throw new NumericError(`training loss became ${loss} at step ${step} (lr ${lr.toExponential(2)}): lower --lr`);
      }
      globalNormClip(grads, cfg.clip);
      opt.step(grads, lr);
      tf.dispose(Object.values(grads));
      stepsDone = step + 1;
      smooth = Number.isNaN(smooth) ? loss : 0.95 * smooth + 0.05 * loss;

      let heldLoss: number | null = null;
      const after = scheduleProgress(stepsDone / cfg.steps, budgetFraction(), 1 / cfg.steps);
      const atCheckpoint = pending.length > 0 && after >= pending[0]! && after < 1;
      while (pending.length > 0 && after >= pending[0]!) pending.shift();
      if ((cfg.evalEvery > 0 && stepsDone % cfg.evalEvery === 0) || atCheckpoint) {
        heldLoss = evalSubsetLoss();
        log(`step ${stepsDone}: train loss ${smooth.toFixed(4)} (smoothed), held-out subset loss ${heldLoss.toFixed(4)} nats/token, lr ${lr.toExponential(2)}, ${elapsed().toFixed(0)} s wall, ${(cpuSeconds() - cpu0).toFixed(0)} s cpu`);
      }
      if (atCheckpoint) checkpoint(stepsDone, heldLoss!);
      history.push({ step: stepsDone, lr, train_loss: loss, held_out_loss: heldLoss, seconds: elapsed(), cpu_seconds: cpuSeconds() - cpu0 });
      bar.update(stepsDone, `loss ${smooth.toFixed(3)}`);
    }
  } finally {
    await helper?.close();
  }
  if (stoppedEarly) log(`trained ${stepsDone} steps, smoothed train loss ${smooth.toFixed(4)}`);
  else bar.finish(`loss ${smooth.toFixed(3)}`);
  const trainSeconds = elapsed();
  opt.dispose();
  const full = evaluateGpt2(model, held);
  return { model, history, checkpoints, stepsDone, stoppedEarly, heldOut: lossReport(full, data.heldOutBytes), trainSeconds, params };
}

/**
 * Mean loss and gradients of a batch: on this thread alone, or split with the helper worker (its rows
 * posted first so both threads work at once), the two means weighted by their rows.
 */
async function stepGrads(model: Gpt2, helper: GradWorker | undefined, inputs: Int32Array, targets: Int32Array, rows: number, context: number): Promise<{ loss: number; grads: Record<string, tf.Tensor> }> {
  if (!helper) {
    const r = batchGrads(model, inputs, targets, rows, context);
    const loss = r.loss.dataSync()[0]!;
    r.loss.dispose();
    return { loss, grads: r.grads };
  }
  const mine = Math.ceil(rows / 2);
  const theirs = rows - mine;
  const cut = mine * context;
  const pending = helper.grads(model, inputs.slice(cut), targets.slice(cut), theirs, context);
  const own = batchGrads(model, inputs.subarray(0, cut), targets.subarray(0, cut), mine, context);
  const ownLoss = own.loss.dataSync()[0]!;
  own.loss.dispose();
  const other = await pending;
  const grads: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(own.grads)) {
    const o = other.grads[k];
    if (!o) throw new NumericError(`gradient worker returned no gradient for ${k}`);
    grads[k] = tf.tidy(() => tf.add(tf.mul(g, mine / rows), tf.mul(tf.tensor(o, g.shape), theirs / rows)));
    g.dispose();
  }
  return { loss: (mine * ownLoss + theirs * other.loss) / rows, grads };
}

/**
 * The checkpoints of a training run folder (DIR/checkpoints/step-N, and DIR itself when it holds a model),
 * with the held-out loss the trainer recorded for each, for analyses run across training.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/index.ts';

export interface CheckpointEntry {
  label: string;
  step: number;
  dir: string;
  /** The trainer's own held-out loss at that checkpoint (nats/token), when its manifest records one. */
  recordedLoss: number;
}

/** Checkpoint folders of a training run, oldest first; the run's own final model last. */
export function listCheckpoints(dir: string): CheckpointEntry[] {
  const recorded = recordedLosses(dir);
  const out: CheckpointEntry[] = [];
  for (const parent of [join(dir, 'checkpoints'), dir]) {
    if (!existsSync(parent)) continue;
    for (const name of readdirSync(parent)) {
      const m = /^step-?(\d+)$/.exec(name);
      if (!m || !existsSync(join(parent, name, 'config.json'))) continue;
      const step = Number(m[1]);
      out.push({ label: name, step, dir: join(parent, name), recordedLoss: recorded.get(step) ?? NaN });
    }
  }
  out.sort((a, b) => a.step - b.step);
  if (existsSync(join(dir, 'config.json'))) out.push({ label: 'final', step: finalStep(dir) ?? NaN, dir, recordedLoss: NaN });
  if (out.length === 0) throw new InputError(`--checkpoints ${dir}: no step-N folders with a config.json, and no model in the folder itself`, dir);
  return out;
}

function readJsonIfAny(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** step -> held-out loss from a trainer manifest's `checkpoints: [{step, held_out_subset_loss}]`, at any depth <= 2. */
function recordedLosses(dir: string): Map<number, number> {
  const out = new Map<number, number>();
  const visit = (v: unknown, depth: number): void => {
    if (typeof v !== 'object' || v === null || depth > 2) return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'checkpoints' && Array.isArray(x)) {
        for (const c of x as Record<string, unknown>[]) {
          const loss = c?.held_out_subset_loss ?? c?.held_out_loss;
          if (typeof c?.step === 'number' && typeof loss === 'number') out.set(c.step, loss);
        }
      } else visit(x, depth + 1);
    }
  };
  visit(readJsonIfAny(join(dir, 'manifest.json')), 0);
  return out;
}

function finalStep(dir: string): number | undefined {
  for (const f of ['manifest.json', 'trainer_state.json']) {
    const j = readJsonIfAny(join(dir, f));
    if (!j) continue;
    const cfg = j.config as Record<string, unknown> | undefined;
    for (const v of [j.steps_done, j.stepsDone, j.steps, j.global_step, cfg?.steps]) if (typeof v === 'number') return v;
  }
  return undefined;
}

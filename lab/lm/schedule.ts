/**
 * Learning-rate schedule: linear warmup over the first `warmup` steps, times a cosine decay from `lr` to
 * `minLr` over the run's progress in [0, 1]. Progress is the larger of the step fraction and the fraction
 * of the wall-clock budget used, so a run on a loaded machine still ends its decay when the budget ends.
 */
export interface Schedule {
  lr: number;
  warmup: number;
  minLr: number;
}

export function lrAt(s: Schedule, step: number, progress: number): number {
  const p = Math.min(1, Math.max(0, progress));
  const cosine = s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * p));
  const warm = s.warmup > 0 ? Math.min(1, (step + 1) / s.warmup) : 1;
  return cosine * warm;
}

/**
 * The run's progress for the schedule and the checkpoints: the step fraction, unless the budget's time
 * fraction is ahead of it by at least one step. Taking the larger of the two outright let timing noise in:
 * at step 0 the time fraction is always a hair above 0, so the first learning rate, and with it the weights,
 * differed by float rounding from run to run even when the budget never bound. Now a run whose budget does
 * not bind is the same run every time; one whose budget binds still ends its decay within the budget.
 */
export function scheduleProgress(stepFraction: number, timeFraction: number, oneStep: number): number {
  return timeFraction >= stepFraction + oneStep ? timeFraction : stepFraction;
}

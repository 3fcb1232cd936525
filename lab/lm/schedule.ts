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

/**
 * Progress on stderr for long work: a redrawn bar with rate and ETA on a terminal, and a plain line
 * every few seconds otherwise (CI logs, pipes), so stdout stays clean for --json.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  /** Suppress all output (tests, --quiet). */
  silent?: boolean;
  stream?: NodeJS.WriteStream;
}

export class Progress {
  private done = 0;
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly tty: boolean;
  private extra = '';

  constructor(private readonly opts: ProgressOptions) {
    this.tty = Boolean((opts.stream ?? process.stderr).isTTY);
  }

  /** Sets the count of finished units; `note` is shown after the bar (a loss, a feature name). */
  update(done: number, note?: string): void {
    this.done = done;
    if (note !== undefined) this.extra = note;
    const now = performance.now();
    // Reaching the total is left to finish(), which draws the final line once.
    if (now - this.lastDraw < (this.tty ? 100 : 5000) || done >= this.opts.total) return;
    this.lastDraw = now;
    this.draw(false);
  }

  tick(n = 1, note?: string): void {
    this.update(this.done + n, note);
  }

  finish(note?: string): void {
    if (note !== undefined) this.extra = note;
    this.done = this.opts.total;
    this.draw(true);
  }

  private draw(final: boolean): void {
    if (this.opts.silent) return;
    const stream = this.opts.stream ?? process.stderr;
    const elapsed = (performance.now() - this.start) / 1000;
    const frac = this.opts.total > 0 ? Math.min(1, this.done / this.opts.total) : 1;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (this.opts.total - this.done) / rate : Infinity;
    const unit = this.opts.unit ?? 'it';
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const text =
      `${this.opts.label} [${bar}] ${this.done}/${this.opts.total} ` +
      `${formatRate(rate)} ${unit}/s ${final ? `done in ${formatSeconds(elapsed)}` : `ETA ${formatSeconds(eta)}`}` +
      (this.extra ? ` ${this.extra}` : '');
    if (this.tty) stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
    else stream.write(text + '\n');
  }
}

function formatRate(r: number): string {
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.round(s - m * 60).toString().padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${(m % 60).toString().padStart(2, '0')}m`;
}

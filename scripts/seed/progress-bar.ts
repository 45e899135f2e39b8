/**
 * A hand-written progress bar for long loads, on stderr:
 * `[#####.....] 4,500/10,000 resources  1,234/s  eta 5s`. On a terminal it redraws in place (at
 * most ten times a second); otherwise (CI logs, pipes) it prints one line per tenth of the way.
 */

/** Where the bar is drawn: a writable with an optional `isTTY` (like `process.stderr`). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const WIDTH = 30;
const REDRAW_MS = 100;
const number = new Intl.NumberFormat('en-US');

/** `5s`, `2m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line of the bar for `done` of `total` after `elapsedMs`. */
export function renderProgress(done: number, total: number, elapsedMs: number, unit = 'resources'): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * WIDTH);
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const eta = rate > 0 ? (total - done) / rate : Infinity;
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${number.format(done)}/${number.format(total)} ${unit}  ${number.format(Math.round(rate))}/s  eta ${formatDuration(eta)}`;
}

/** A progress bar over a known total. */
export class ProgressBar {
  private readonly started: number;
  private done = 0;
  private lastDraw = 0;
  private lastTenth = 0;

  constructor(
    private readonly total: number,
    private readonly stream: ProgressStream,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** Adds `count` finished items and redraws if it is time. */
  advance(count: number): void {
    this.done += count;
    const t = this.now();
    if (this.stream.isTTY) {
      if (t - this.lastDraw >= REDRAW_MS || this.done >= this.total) {
        this.lastDraw = t;
        this.stream.write(`\r${renderProgress(this.done, this.total, t - this.started)}\x1b[K`);
      }
      return;
    }
    const tenth = Math.floor((Math.min(this.done, this.total) / this.total) * 10);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.stream.write(`${renderProgress(this.done, this.total, t - this.started)}\n`);
    }
  }

  /** Ends the bar's line (on a terminal) so later output starts on a fresh line. */
  finish(): void {
    if (this.stream.isTTY) this.stream.write(`\r${renderProgress(this.done, this.total, this.now() - this.started)}\x1b[K\n`);
  }
}

/**
 * The fixed windows a {@link RateLimit} is counted in (each second and each minute, aligned to
 * the clock) and the arithmetic on them that src/auth/rate-limiter.ts needs; pure functions.
 */
import type { RateLimit } from './rate-decision.ts';

/** A window's length in seconds. */
export type WindowSize = 1 | 60;

/** The limited windows of a limit, smallest first (a limit of 0 is no limit). */
export function windowLimits(limit: RateLimit): Array<[WindowSize, number]> {
  const limits: Array<[WindowSize, number]> = [];
  const perSecond = Math.floor(limit.perSecond);
  const perMinute = Math.floor(limit.perMinute);
  if (perSecond > 0) limits.push([1, perSecond]);
  if (perMinute > 0) limits.push([60, perMinute]);
  return limits;
}

/**
 * The largest window and the most a single request may cost in it: its limit, where a per-minute
 * limit counts for at most 60 times the per-second one (a minute holds no more seconds than that).
 */
export function largestWindow(limits: Array<[WindowSize, number]>): { size: WindowSize; limit: number } {
  const [size, limit] = limits[limits.length - 1];
  const perSecond = limits.find(([s]) => s === 1)?.[1];
  return { size, limit: size === 60 && perSecond !== undefined ? Math.min(limit, 60 * perSecond) : limit };
}

/** The start (epoch ms) of the window of `size` that holds `now`. */
export function windowStart(size: WindowSize, now: number): number {
  const ms = size * 1000;
  return Math.floor(now / ms) * ms;
}

/** What this process may still accept of `left` when `processes` share it: at least 1 while any is left. */
export function shareOf(left: number, processes: number): number {
  return left <= 0 ? 0 : Math.max(1, Math.floor(left / processes));
}

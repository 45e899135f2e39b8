/**
 * When a failed delivery is tried again: exponential backoff from 1 s (1, 2, 4, 8 s, …), capped at
 * `WEBHOOK_RETRY_MAX_DELAY` so an endpoint that comes back gets everything pending within about
 * that long, with "equal jitter" (each delay drawn between half and all of its step) so the
 * deliveries that failed together do not retry together. A delivery still failing when its next
 * attempt would come later than `WEBHOOK_RETRY_PERIOD` after its first is given up, and its
 * Subscription turned `off`. After {@link ERROR_AFTER} consecutive failed attempts a Subscription is
 * set to `error` (with `Subscription.error`); one success sets it back to `active`.
 */

/** The first retry's step. */
export const RETRY_BASE_MS = 1_000;
/** Consecutive failed attempts after which a Subscription's status is `error`. */
export const ERROR_AFTER = 5;

/** The delay before attempt `attempt + 1`, after attempt `attempt` (1-based) failed. */
export function retryDelayMs(attempt: number, maxDelayMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxDelayMs, RETRY_BASE_MS * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** True when a delivery first tried at `firstAttemptAt` should not be tried again at `nextAt`. */
export function isGivenUp(firstAttemptAt: number, nextAt: number, retryPeriodMs: number): boolean {
  return nextAt - firstAttemptAt > retryPeriodMs;
}

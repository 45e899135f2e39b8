/**
 * How background work (the auth state's sync, the rate limiter, the audit flush, the change
 * feed, the job queue, webhook and export workers) reports a failure: one pino line at `error`
 * with the component and the error's message (quoted text cut out, as the request error log does)
 * and code, never a request's content. During a database outage the same failure repeats every few hundred milliseconds, so
 * each distinct message of a component is logged at most once every {@link REPEAT_MS}.
 */
import type { Logger } from 'pino';

/** How long the same message of a component stays quiet after it was logged. */
export const REPEAT_MS = 10_000;
/** Longest message logged (a driver's message may quote a long statement). */
const MAX_MESSAGE = 500;

/** A component's error reporter. */
export type ErrorReporter = (err: unknown) => void;

/**
 * Returns a factory of error reporters, one per component (`auth`, `changes`, `jobs`...), sharing
 * one throttle.
 */
export function backgroundErrorReporters(logger: Logger): (component: string) => ErrorReporter {
  const lastLogged = new Map<string, number>();
  return (component) => {
    const log = logger.child({ component });
    return (err) => {
      // A driver's message may quote a value it refused (`invalid input syntax for type date: "…"`).
      const message = String((err as Error)?.message ?? err).replace(/"[^"\n]*"/g, '"…"').slice(0, MAX_MESSAGE);
      const key = `${component}\u0000${message}`;
      const now = Date.now();
      if ((lastLogged.get(key) ?? -Infinity) > now - REPEAT_MS) return;
      if (lastLogged.size > 100) lastLogged.clear();
      lastLogged.set(key, now);
      const code = (err as { code?: unknown })?.code;
      log.error(typeof code === 'string' ? { err: { message, code } } : { err: { message } }, 'background task failed');
    };
  };
}

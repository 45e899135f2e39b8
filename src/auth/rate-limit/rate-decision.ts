/**
 * What a rate limit is and what a rate-limit check answers, and how the answer goes on the wire;
 * re-exported by src/auth/rate-limiter.ts, which makes the decisions.
 */

/** A client's limits; 0 means no limit on that window. */
export interface RateLimit {
  perSecond: number;
  perMinute: number;
}

/**
 * The outcome of `RateLimiter.consume` (src/auth/rate-limiter.ts) for the most restrictive
 * window: its `limit`, the requests still `remaining` in it, and `resetSeconds` until it starts
 * afresh; when refused, `retryAfterSeconds` says when trying again can succeed. A `limit` of 0
 * means unlimited.
 */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
  retryAfterSeconds?: number;
  /**
   * Set when the request costs more than the client's largest window can ever hold, so waiting
   * cannot help (no `Retry-After`): its `cost` in units, that window's `limit` and length.
   */
  tooCostly?: { cost: number; limit: number; windowSeconds: number };
}

/**
 * The response fields of draft-ietf-httpapi-ratelimit-headers-06 ("RateLimit Fields for HTTP",
 * https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-ratelimit-headers-06):
 * `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (delta-seconds), for the most
 * restrictive window, plus `Retry-After` (RFC 9110 §10.2.3) on a refusal that waiting can cure,
 * sent with 429 (RFC 6585 §4). An unlimited decision yields no fields.
 */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  if (decision.limit <= 0) return {};
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(Math.max(0, decision.remaining)),
    'RateLimit-Reset': String(decision.resetSeconds),
  };
  if (!decision.allowed && !decision.tooCostly) headers['Retry-After'] = String(decision.retryAfterSeconds ?? decision.resetSeconds);
  return headers;
}

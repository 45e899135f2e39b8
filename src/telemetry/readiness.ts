/**
 * Readiness (`GET /readyz`): whether this process should be sent traffic. Unlike `/healthz`
 * (the database answers), it fails when the process could answer but would answer badly: the
 * database is unreachable, its schema lags this build, committed changes wait for their feed
 * position (subscriptions and webhooks stall), or startable jobs wait in the queue (webhook
 * deliveries, exports). Each check is a probe bounded by a timeout, so the endpoint itself never
 * hangs; the answer names every check, and the failing ones say why.
 */

/** One check of the answer. */
export interface ReadinessCheck {
  name: string;
  status: 'pass' | 'fail';
  /** What was observed (a number of milliseconds, the pending migrations), for operators. */
  observed?: unknown;
  /** Why it failed. */
  reason?: string;
}

/** The answer of `/readyz`. */
export interface Readiness {
  status: 'ready' | 'not ready';
  checks: ReadinessCheck[];
}

/** What the checks read, each one statement (src/store/readiness-repository.ts). */
export interface ReadinessProbes {
  ping(): Promise<boolean>;
  pendingMigrations(): Promise<string[]>;
  changeFeedLagMs(): Promise<number>;
  jobQueueAgeMs(): Promise<number>;
}

/** The limits of the checks (`READY_MAX_FEED_LAG`, `READY_MAX_QUEUE_AGE`) and of each probe. */
export interface ReadinessLimits {
  maxFeedLagMs: number;
  maxQueueAgeMs: number;
  probeTimeoutMs: number;
}

/** `promise`, or a rejection once `ms` have passed (also bounds the metrics' backlog readings). */
export function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The reason a probe failed, without driver detail (connection strings, SQL) in the public answer. */
function failureOf(err: unknown): string {
  return err instanceof Error && err.message.startsWith('no answer within') ? err.message : 'the database did not answer the check';
}

/** Runs one check: `judge` turns what the probe read into the check, a failed probe fails it. */
async function check<T>(name: string, probe: () => Promise<T>, judge: (value: T) => Omit<ReadinessCheck, 'name'>, timeoutMs: number): Promise<ReadinessCheck> {
  try {
    return { name, ...judge(await within(timeoutMs, probe())) };
  } catch (err) {
    return { name, status: 'fail', reason: failureOf(err) };
  }
}

/** Runs every check at once and says whether all passed. */
export async function assessReadiness(probes: ReadinessProbes, limits: ReadinessLimits): Promise<Readiness> {
  const t = limits.probeTimeoutMs;
  const checks = await Promise.all([
    check('database', () => probes.ping(), (up) => (up ? { status: 'pass' } : { status: 'fail', reason: 'the database does not answer' }), t),
    check('migrations', () => probes.pendingMigrations(), (pending) => (pending.length === 0
      ? { status: 'pass' }
      : { status: 'fail', observed: pending, reason: `${pending.length} schema migration(s) not applied` }), t),
    check('change-feed-lag', () => probes.changeFeedLagMs(), (ms) => ({
      observed: Math.round(ms),
      ...(ms <= limits.maxFeedLagMs ? { status: 'pass' as const } : { status: 'fail' as const, reason: `the oldest change without a feed position waits ${Math.round(ms)} ms (limit ${limits.maxFeedLagMs} ms)` }),
    }), t),
    check('job-queue-age', () => probes.jobQueueAgeMs(), (ms) => ({
      observed: Math.round(ms),
      ...(ms <= limits.maxQueueAgeMs ? { status: 'pass' as const } : { status: 'fail' as const, reason: `the oldest startable job waits ${Math.round(ms)} ms (limit ${limits.maxQueueAgeMs} ms)` }),
    }), t),
  ]);
  return { status: checks.every((c) => c.status === 'pass') ? 'ready' : 'not ready', checks };
}

/**
 * The readiness answer shared by concurrent callers and reused for `freshMs`: `/readyz` is public,
 * so a flood of probes runs one assessment (four statements) per `freshMs`, not four statements each.
 */
export class SharedReadiness {
  private last: { at: number; value: Readiness } | undefined;
  private running: Promise<Readiness> | undefined;

  constructor(private readonly assess: () => Promise<Readiness>, private readonly freshMs: number) {}

  get(): Promise<Readiness> {
    if (this.last && Date.now() - this.last.at < this.freshMs) return Promise.resolve(this.last.value);
    this.running ??= this.assess().then((value) => {
      this.last = { at: Date.now(), value };
      return value;
    }).finally(() => { this.running = undefined; });
    return this.running;
  }
}

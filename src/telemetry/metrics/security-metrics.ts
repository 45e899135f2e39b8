/**
 * The gate's refusals: requests refused authentication or authorisation (by a bounded reason,
 * never the token or the client), requests refused by a rate limit (by route pattern), and audit
 * events the audit log had to drop (its buffer full, or the database refusing the event).
 */
import { Counter, type Registry } from 'prom-client';

/** What the audit log says it dropped since the process started (src/service/audit/audit-log.ts). */
export interface DroppedSource {
  readonly dropped: number;
}

/** Counters of refusals and drops; see the module comment. */
export class SecurityMetrics {
  private readonly refusals: Counter<'reason'>;
  private readonly rateLimited: Counter<'route'>;
  private auditSource: DroppedSource | undefined;

  constructor(registry: Registry) {
    this.refusals = new Counter({
      name: 'fhirgraph_auth_refusals_total',
      help: 'Requests refused authentication (401, by token refusal reason) or authorisation (403, reason "forbidden").',
      labelNames: ['reason'], registers: [registry],
    });
    this.rateLimited = new Counter({
      name: 'fhirgraph_rate_limit_rejections_total',
      help: 'Requests answered 429 (a rate limit, a too-costly request, a concurrency bound), by route pattern.',
      labelNames: ['route'], registers: [registry],
    });
    const metrics = this;
    new Counter({
      name: 'fhirgraph_audit_events_dropped_total',
      help: 'Audit events dropped since the process started: the audit buffer was full, or the database refused the event.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(metrics.auditSource?.dropped ?? 0);
      },
    });
  }

  /** A refused request; `reason` is a fixed word (`TokenRefusal`, `forbidden`), never client input. */
  refused(reason: string): void {
    this.refusals.inc({ reason });
  }

  /** A 429 answer on `route` (a route pattern). */
  rejectedByRateLimit(route: string): void {
    this.rateLimited.inc({ route });
  }

  /** Reads the audit log's drop count at scrape time. */
  watchAuditLog(source: DroppedSource): void {
    this.auditSource = source;
  }
}

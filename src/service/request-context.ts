/**
 * What the core service knows about the request it serves: the base URL for links, who is
 * asking (the verified token's client and scopes), and the audit facts the request gathers.
 * Every facade builds one per request; internal callers use {@link systemContext}.
 */
import type { AuthInfo } from '../auth/access-tokens.ts';
import type { RateLimit } from '../auth/rate-limit/rate-decision.ts';
import { ScopeSet } from '../auth/scopes.ts';
import type { AuditRecord } from './audit/audit-event.ts';
import { RequestAudit } from './audit/request-audit.ts';

export interface RequestContext {
  /** Base URL of the FHIR endpoint (`PUBLIC_URL/fhir`), for absolute references and links. */
  readonly fhirBaseUrl: string;
  /** The caller. */
  readonly auth: AuthInfo;
  /** The audit facts of this request. */
  readonly audit: RequestAudit;
  /** Client address, for the audit trail. */
  readonly ip?: string;
  /**
   * Charges the caller `units` more rate-limit units than the one its request paid on arrival
   * (a Bundle pays per entry, a GraphQL operation by its cost), before the work is done; throws a
   * 429 {@link FhirError} when the client's limits cannot cover them. It may wait for one round
   * trip to the database (the limiter's claim, src/auth/rate-limiter.ts). Absent for the server's
   * own contexts, which are not limited.
   */
  readonly chargeWork?: (units: number) => Promise<void>;
  /**
   * The caller's rate limits as the server applies them (its own, else the server's defaults;
   * 0 = unlimited) and those defaults: what an admin may grant the clients it creates. Absent
   * for the server's own contexts, which are not limited.
   */
  readonly rateLimit?: { own: RateLimit; defaults: RateLimit };
}

/** A context with every permission, for the server's own work (seeding, tests, CLI). */
export function systemContext(fhirBaseUrl: string): RequestContext {
  return {
    fhirBaseUrl,
    auth: {
      clientId: 'system', clientName: 'fhirgraph', admin: true, scopes: new ScopeSet('system/*.cruds'), tokenId: 'system',
      rate: { perSecond: null, perMinute: null },
    },
    audit: new RequestAudit(),
  };
}

/** The audit record of a finished request (a failure noted by the facade overrides a 2xx status). */
export function auditRecordOf(ctx: RequestContext, status: number, description?: string): AuditRecord {
  const failure = status < 400 ? ctx.audit.failure : undefined;
  if (failure) {
    status = failure.status;
    description = failure.description;
  }
  return {
    action: ctx.audit.action,
    interaction: ctx.audit.interaction,
    clientId: ctx.auth.clientId,
    clientName: ctx.auth.clientName,
    ip: ctx.ip,
    status,
    description,
    entities: [...ctx.audit.entities],
    ...(ctx.audit.query !== undefined ? { query: ctx.audit.query } : {}),
    recorded: new Date(),
  };
}

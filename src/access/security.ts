/**
 * The OAuth2 layer as one object for the HTTP server: signing keys, the per-process auth state,
 * access tokens, the token service, rate limits and the audit log; its background loops are
 * workers that `startServer` starts and stops with the others.
 * Its `authenticate` step turns a request's bearer token into the service's
 * {@link RequestContext}, or refuses it (401 with `WWW-Authenticate`, 429 with `Retry-After`),
 * auditing refusals at most once per client and reason per second (DECISIONS.md §7).
 * It sits in `src/access/`, above the service (whose audit log it drives) and below the facades
 * and the HTTP wiring that use it (REST's `/auth/*` routes, the authentication hook).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessTokens, TokenRefused, refusalError, type AuthInfo } from '../auth/access-tokens.ts';
import { AuthState, RESYNC } from '../auth/auth-state.ts';
import { RateLimiter, rateLimitHeaders, type RateDecision, type RateLimit } from '../auth/rate-limiter.ts';
import { SigningKeys } from '../auth/signing-keys.ts';
import { TokenService } from '../auth/token-service.ts';
import type { Config } from '../config.ts';
import { FhirError, outcome, tooManyRequests } from '../fhir/outcomes.ts';
import { AuditLog } from '../service/audit/audit-log.ts';
import { AuditPartitions } from '../service/audit/audit-partitions.ts';
import type { AuditRecord } from '../service/audit/audit-event.ts';
import { RequestAudit } from '../service/audit/request-audit.ts';
import type { RequestContext } from '../service/request-context.ts';
import type { Database } from '../store/database.ts';
import type { Worker } from '../store/worker.ts';
import type { SecurityMetrics } from '../telemetry/metrics/index.ts';

/** The 429 of a refused rate decision (with its RateLimit and `Retry-After` headers), or undefined when allowed. */
function rateRefusal(decision: RateDecision): FhirError | undefined {
  const headers = rateLimitHeaders(decision);
  if (decision.tooCostly) {
    const { cost, limit: max, windowSeconds } = decision.tooCostly;
    return new FhirError(429, outcome('error', 'too-costly',
      `This request costs ${cost} rate-limit units (one per REST interaction, Bundle entry, or database read of a GraphQL operation), more than this client's limit of ${max} per ${windowSeconds === 1 ? 'second' : 'minute'}; split it into smaller requests`), headers);
  }
  if (!decision.allowed) {
    const err = tooManyRequests(`Rate limit exceeded; retry after ${headers['Retry-After'] ?? '1'} s`);
    return new FhirError(429, err.outcome, headers);
  }
  return undefined;
}

export class Security {
  private readonly refusalSeen = new Map<string, number>();

  private constructor(
    readonly config: Config,
    readonly keys: SigningKeys,
    readonly state: AuthState,
    readonly tokens: AccessTokens,
    readonly tokenService: TokenService,
    readonly limiter: RateLimiter,
    readonly auditLog: AuditLog,
    readonly auditPartitions: AuditPartitions,
    /** Counts token refusals by reason (metrics on). */
    private readonly metrics: SecurityMetrics | undefined,
  ) {}

  /** Loads the signing keys and builds the rest; its background loops are {@link workers}, which `startServer` starts. */
  static async start(db: Database, config: Config, onError: (err: unknown) => void, metrics?: SecurityMetrics): Promise<Security> {
    const keys = await SigningKeys.open(db);
    const state = new AuthState(db, onError);
    state.onNotification((payload) => {
      if (payload === 'keys' || payload === RESYNC) keys.reload().catch(onError);
    });
    const tokens = new AccessTokens(keys, state, config.publicUrl);
    const tokenService = new TokenService(db, state, tokens, `${config.publicUrl}/auth/token`);
    const limiter = new RateLimiter(db, { onError });
    const auditLog = new AuditLog(db, onError);
    const auditPartitions = new AuditPartitions(db, config.audit.retentionMs, onError);
    metrics?.watchAuditLog(auditLog);
    return new Security(config, keys, state, tokens, tokenService, limiter, auditLog, auditPartitions, metrics);
  }

  /** The background loops, in start order: the auth state's listener, rate-limit sync, the audit trail's partitions and its flush. */
  get workers(): Worker[] {
    return [this.state, this.limiter, this.auditPartitions, this.auditLog];
  }

  /** Records a refusal unless the same client and reason was recorded within the last second. */
  auditRefusal(record: AuditRecord): void {
    const key = `${record.clientId ?? record.ip ?? '-'}|${record.interaction}|${record.status}|${record.description ?? ''}`;
    const now = Date.now();
    if ((this.refusalSeen.get(key) ?? 0) > now - 1_000) return;
    if (this.refusalSeen.size > 10_000) this.refusalSeen.clear();
    this.refusalSeen.set(key, now);
    this.auditLog.enqueue(record);
  }

  /**
   * Charges one unit (a request's arrival) to `key`'s rate limit, in memory; sets the RateLimit
   * headers and throws 429 `throttled` with `Retry-After` when refused.
   */
  enforceRate(reply: FastifyReply, key: string, limit: RateLimit): void {
    this.answerRate(reply, this.limiter.consume(key, limit));
  }

  /**
   * Charges `units` of a request's work (`paid` already charged to the same request) to `key`'s
   * rate limit, which may take one claim round trip to the database (`RateLimiter.consumeWork`);
   * sets the RateLimit headers and throws 429 when refused: `throttled` with `Retry-After`, or
   * `too-costly` without it when the request costs more than the client's largest window holds.
   */
  async enforceWorkRate(reply: FastifyReply, key: string, limit: RateLimit, units: number, paid: number): Promise<void> {
    this.answerRate(reply, await this.limiter.consumeWork(key, limit, units, paid));
  }

  private answerRate(reply: FastifyReply, decision: RateDecision): void {
    const headers = rateLimitHeaders(decision);
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    const refusal = rateRefusal(decision);
    if (refusal) throw refusal;
  }

  /** Authenticates a request and builds its service context; throws a 401 when refused. */
  async authenticate(request: FastifyRequest, reply: FastifyReply, fhirBaseUrl: string): Promise<RequestContext> {
    let auth: AuthInfo;
    try {
      auth = await this.tokens.authenticate(request.headers.authorization);
    } catch (err) {
      throw this.refusal(err, request, reply);
    }
    return this.contextOf(auth, request, reply, fhirBaseUrl);
  }

  /**
   * {@link authenticate}'s context, or its 401, at once and without a promise when the token and
   * its client are known to this process (`AccessTokens.authenticateNow`); `undefined` otherwise.
   */
  authenticateNow(request: FastifyRequest, reply: FastifyReply, fhirBaseUrl: string): RequestContext | undefined {
    let auth: AuthInfo | undefined;
    try {
      auth = this.tokens.authenticateNow(request.headers.authorization);
    } catch (err) {
      throw this.refusal(err, request, reply);
    }
    return auth && this.contextOf(auth, request, reply, fhirBaseUrl);
  }

  private contextOf(auth: AuthInfo, request: FastifyRequest, reply: FastifyReply, fhirBaseUrl: string): RequestContext {
    let paid = 1; // the unit every request pays on arrival (build-app's onRequest hook)
    const rateLimit = { own: this.clientLimit(auth), defaults: this.config.rateLimit };
    const chargeWork = async (units: number): Promise<void> => {
      if (units <= 0) return;
      await this.enforceWorkRate(reply, `client:${auth.clientId}`, rateLimit.own, units, paid);
      paid += units;
    };
    return { fhirBaseUrl, auth, audit: new RequestAudit(), ip: request.ip, chargeWork, rateLimit };
  }

  /**
   * Counts a refusal by a rate or concurrency limit outside an HTTP answer (a graphql-ws start or
   * connection; 429s over HTTP are counted from their answer), labelled `route` (a fixed name).
   */
  countRateLimitRejection(route: string): void {
    this.metrics?.rejectedByRateLimit(route);
  }

  /** The 401 of a refused token (audited, with `WWW-Authenticate`); any other error as it is. */
  private refusal(err: unknown, request: FastifyRequest, reply: FastifyReply): unknown {
    if (!(err instanceof TokenRefused)) return err;
    this.metrics?.refused(err.reason);
    this.auditRefusal({
      action: 'E', interaction: 'token-refused', clientId: err.clientId, ip: request.ip, status: 401,
      description: `access token refused: ${err.reason}`, entities: [], recorded: new Date(),
    });
    reply.header('WWW-Authenticate', `Bearer realm="fhirgraph", error="invalid_token", error_description="${err.reason}"`);
    return refusalError(err);
  }

  /**
   * Authenticates a bearer token that came without an HTTP request of its own (a WebSocket's
   * `connection_init` payload, CONTRACT.md "Authentication"): the same checks as
   * {@link authenticate}, refusals audited alike. Throws {@link TokenRefused}; the context has no
   * `chargeWork` (a subscription start is charged with {@link chargeArrival}).
   */
  async authenticateBearer(authorization: string | undefined, ip: string | undefined, fhirBaseUrl: string): Promise<RequestContext> {
    try {
      const auth = await this.tokens.authenticate(authorization);
      return { fhirBaseUrl, auth, audit: new RequestAudit(), ip, rateLimit: { own: this.clientLimit(auth), defaults: this.config.rateLimit } };
    } catch (err) {
      if (err instanceof TokenRefused) {
        this.metrics?.refused(err.reason);
        this.auditRefusal({
          action: 'E', interaction: 'token-refused', clientId: err.clientId, ip, status: 401,
          description: `access token refused: ${err.reason}`, entities: [], recorded: new Date(),
        });
      }
      throw err;
    }
  }

  /**
   * Charges one unit (a request's arrival, or a subscription's start) to the context's client,
   * as {@link enforceClientRate} does without an HTTP reply; throws the 429 `FhirError` when refused.
   */
  async chargeArrival(ctx: RequestContext): Promise<void> {
    const limit = ctx.rateLimit?.own ?? this.clientLimit(ctx.auth);
    const refusal = rateRefusal(await this.limiter.consumeArrival(`client:${ctx.auth.clientId}`, limit));
    if (refusal) throw refusal;
  }

  /**
   * Calls `listener` whenever this process learns of disabled clients or revoked tokens (within
   * about a second of the change, on every process): holders of long-lived connections check
   * their tokens again with `tokens.authenticate`.
   */
  onAuthChange(listener: () => void): void {
    this.state.onRefreshed(listener);
  }

  /**
   * Charges a request's arrival (one unit) to its client's own rate limit, asking the database
   * only when this process's claim is used up; throws 429 when exceeded.
   */
  async enforceClientRate(reply: FastifyReply, ctx: RequestContext): Promise<void> {
    const limit = ctx.rateLimit?.own ?? this.clientLimit(ctx.auth);
    this.answerRate(reply, await this.limiter.consumeArrival(`client:${ctx.auth.clientId}`, limit));
  }

  /**
   * {@link enforceClientRate} at once when this process can decide alone (almost every request):
   * true once charged, throws its 429; false when only {@link enforceClientRate} can tell.
   */
  enforceClientRateNow(reply: FastifyReply, ctx: RequestContext): boolean {
    const limit = ctx.rateLimit?.own ?? this.clientLimit(ctx.auth);
    const decision = this.limiter.consumeArrivalNow(`client:${ctx.auth.clientId}`, limit);
    if (!decision) return false;
    this.answerRate(reply, decision);
    return true;
  }

  /** The client's own limits, or the server's defaults where it has none. */
  private clientLimit(auth: AuthInfo): RateLimit {
    const { rate } = auth;
    return {
      perSecond: rate.perSecond ?? this.config.rateLimit.perSecond,
      perMinute: rate.perMinute ?? this.config.rateLimit.perMinute,
    };
  }
}

/**
 * One authenticated subscription WebSocket: who it acts for (the context its `connection_init`
 * token gave), its open subscriptions, and the rules that close it — the token's expiry (4401 at
 * `exp`), a revocation or disabled client learnt from the auth state (4401, checked again by
 * {@link SubscriberConnection.recheck}), and a client reading too slowly (1013 once a stream holds
 * more than `WS_MAX_QUEUED_EVENTS` events or the socket more than `WS_MAX_BUFFER` unwritten bytes,
 * `bufferedAmount`). Each subscription's start and end are audited here.
 * https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md
 */
import type { WebSocket } from 'ws';
import type { Security } from '../../access/security.ts';
import { TokenRefused, refusalError } from '../../auth/access-tokens.ts';
import { unauthorized } from '../../fhir/outcomes.ts';
import type { AuditRecord } from '../../service/audit/audit-event.ts';
import type { ChangeStream } from '../../service/change-streams/change-stream.ts';
import type { RequestContext } from '../../service/request-context.ts';
import { WsCloseCode } from './close-codes.ts';

/** One subscription of a connection, from its start to its end. */
export interface ActiveSubscription {
  /** The root field (`PatientChanged`). */
  readonly field: string;
  /** Its own context: the connection's caller, with an audit of its own. */
  readonly ctx: RequestContext;
  readonly stream: ChangeStream;
  /** Why it ended, when the server ended it (an error mid-stream). */
  failure?: { status: number; description: string };
}

/** Why the server closed the socket, for the audit of what was open on it. */
interface ServerClose {
  code: number;
  status: number;
  reason: string;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** See the module comment. */
export class SubscriberConnection {
  readonly subscriptions = new Map<string, ActiveSubscription>();
  /** Starts under way (checked and counted, their streams not yet open). */
  starting = 0;
  /** Aborts when the socket closes: statements run for its events are cancelled. */
  readonly closing = new AbortController();
  private serverClose: ServerClose | undefined;
  private readonly expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    /** The caller, from the `connection_init` token. */
    readonly ctx: RequestContext,
    /** The `Authorization` value it sent, checked again when the auth state changes. */
    private readonly authorization: string,
    private readonly security: Security,
    private readonly limits: { maxQueuedEvents: number; maxBufferBytes: number },
  ) {
    const expiresAt = ctx.auth.expiresAt;
    if (expiresAt !== undefined) {
      this.expiry = setTimeout(() => this.close(WsCloseCode.Unauthorized, 401, 'Unauthorized: the access token has expired'),
        Math.min(MAX_TIMER_MS, Math.max(0, expiresAt - Date.now())));
      this.expiry.unref();
    }
  }

  /** The client the connection acts for. */
  get clientId(): string {
    return this.ctx.auth.clientId;
  }

  /** True once the socket is closing or closed. */
  get closed(): boolean {
    return this.closing.signal.aborted || this.socket.readyState !== this.socket.OPEN;
  }

  /**
   * Closes the socket with `code` and stops its streams at once (a slow client's socket may take
   * a while to finish closing: what was held for it is let go now). The subscriptions still open
   * are audited with `status`.
   */
  close(code: number, status: number, reason: string): void {
    this.serverClose ??= { code, status, reason };
    this.socket.close(code, reason.slice(0, 120));
    for (const subscription of this.subscriptions.values()) subscription.stream.close();
  }

  /** The socket is gone: stops the timer and every stream (graphql-ws ends the iterations too). */
  dispose(): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.closing.abort();
    for (const subscription of this.subscriptions.values()) subscription.stream.close();
  }

  /**
   * Checks the token again (after the auth state learnt of revoked tokens or disabled clients);
   * closes with 4401 when it no longer passes.
   */
  async recheck(): Promise<void> {
    if (this.closed) return;
    try {
      await this.security.tokens.authenticate(this.authorization);
    } catch (err) {
      if (!(err instanceof TokenRefused)) throw err;
      this.close(WsCloseCode.Unauthorized, 401, `Unauthorized: ${refusalError(err).message}`);
    }
  }

  /** Before each delivery: throws once the connection is closing or its token has expired. */
  checkAccess(): void {
    const expiresAt = this.ctx.auth.expiresAt;
    if (expiresAt !== undefined && Date.now() >= expiresAt) {
      this.close(WsCloseCode.Unauthorized, 401, 'Unauthorized: the access token has expired');
    }
    if (this.closed) throw unauthorized(this.serverClose?.reason ?? 'The connection is closing');
  }

  /**
   * Closes with 1013 when the client reads too slowly: a subscription holds more than
   * `WS_MAX_QUEUED_EVENTS` events it has not taken, or the socket more than `WS_MAX_BUFFER` bytes
   * it has not written. (graphql-ws sends a subscription's next message once the previous one is
   * written, so a client that stops reading leaves its events waiting in their streams.)
   */
  checkBuffer(): void {
    if (this.closed) return;
    const { maxQueuedEvents, maxBufferBytes } = this.limits;
    for (const subscription of this.subscriptions.values()) {
      if (subscription.stream.queued > maxQueuedEvents) {
        this.close(WsCloseCode.SlowConsumer, 429, `Slow consumer: more than ${maxQueuedEvents} events waiting (WS_MAX_QUEUED_EVENTS); resume with since`);
        return;
      }
    }
    if (this.socket.bufferedAmount > maxBufferBytes) {
      this.close(WsCloseCode.SlowConsumer, 429, `Slow consumer: more than ${maxBufferBytes} bytes unsent (WS_MAX_BUFFER); resume with since`);
    }
  }

  /**
   * Audits a subscription start, or its refusal (`status` ≥ 400; a rate-limited one at most once
   * per client and reason per second, as HTTP refusals are).
   */
  auditStart(ctx: RequestContext, field: string, status: number, description?: string): void {
    this.audit(ctx, 'subscription-start', status, description ? `${field}: ${description}` : field, status === 429);
  }

  /**
   * Ends a subscription (completed, failed, or its socket closed): audits it once with what it
   * delivered and read. `closeCode`: the socket's, when its close ended the subscription.
   */
  finish(id: string, closeCode?: number): void {
    const subscription = this.subscriptions.get(id);
    if (!subscription) return;
    this.subscriptions.delete(id);
    subscription.stream.close();
    const server = this.serverClose;
    const status = subscription.failure?.status ?? server?.status ?? 200;
    const closing = closeCode !== undefined || this.closed;
    const why = subscription.failure?.description
      ?? (server ? `closed by the server with ${server.code}: ${server.reason}` : closing ? `connection closed${closeCode === undefined ? '' : ` (${closeCode})`}` : 'completed');
    this.audit(subscription.ctx, 'subscription-end', status, `${subscription.field}: ${subscription.stream.delivered} events delivered; ${why}`);
  }

  private audit(ctx: RequestContext, interaction: string, status: number, description: string, refusal = false): void {
    const record: AuditRecord = {
      action: 'E', interaction, clientId: ctx.auth.clientId, clientName: ctx.auth.clientName, ip: ctx.ip, status,
      description, entities: [...ctx.audit.entities], recorded: new Date(),
    };
    if (refusal) this.security.auditRefusal(record);
    else this.security.auditLog.enqueue(record);
  }
}

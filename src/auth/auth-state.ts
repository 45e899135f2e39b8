/**
 * What every request's authorisation needs to know about clients and revoked tokens, kept in
 * process so a request costs no database round trip (DECISIONS.md §7), and kept fresh across
 * processes: a change (client disabled, token revoked) is announced with `NOTIFY`, which every
 * process `LISTEN`s for, and each process also polls "changed since" once a second in case a
 * notification is lost. Either way a change reaches every process within about a second.
 *
 * Database outages: the listening connection ({@link PgListener}) is re-opened for as long as it
 * takes, with backoff, and each time it is back the state catches up with one poll; the poll
 * itself only reports its failures and tries again a second later.
 *
 * Polls, announcements and reconnections are background work: one started by a request (a
 * revocation, a client disabled over the admin API) runs outside that request's scope, so it
 * neither takes the request's connection slots nor stops when the request's client goes away.
 */
import type { Database } from '../store/database.ts';
import { PgListener } from '../store/pg-listener.ts';
import { runOutsideQueryScope } from '../store/query-scope.ts';
import {
  clientsChangedSince, currentAuthChangeSeq, findClient, revokedTokensSince, type ClientRecord, type RevokedTokenRecord,
} from '../store/oauth-repository.ts';

export const AUTH_CHANNEL = 'fhirgraph_auth';
/** The payload {@link AuthState.onNotification} listeners get after a lost `LISTEN` connection is back: notifications may have been missed, so re-read everything. */
export const RESYNC = '*';

function lookBack(seq: string): string {
  const value = BigInt(seq) - 50n;
  return (value > 0n ? value : 0n).toString();
}
const POLL_MS = 1_000;

/** The per-process view of clients and revocations. */
export class AuthState {
  private readonly clients = new Map<string, ClientRecord>();
  private readonly revoked = new Map<string, number>();
  private lastClientSeq = '0';
  private lastRevokedSeq = '0';
  private readonly listener: PgListener;
  private refreshing: Promise<void> | undefined;
  private readonly listeners: ((payload: string) => void)[] = [];
  private readonly refreshedListeners: (() => void)[] = [];
  /** Its name in the server's worker list (`startServer`). */
  readonly name = 'auth-state';

  constructor(private readonly db: Database, private readonly onError: (err: unknown) => void = () => undefined) {
    this.listener = new PgListener({
      databaseUrl: db.databaseUrl,
      channels: [AUTH_CHANNEL],
      onNotification: (_channel, payload) => {
        for (const listener of this.listeners) listener(payload);
        void this.refresh();
      },
      onReconnected: async () => {
        await this.refresh();
        // Whatever else was announced meanwhile (a key rotation) is re-read by its listener.
        for (const listener of this.listeners) listener(RESYNC);
      },
      onPoll: () => this.refresh(),
      pollMs: POLL_MS,
      onError,
    });
  }

  /** Loads the starting point and begins listening and polling. */
  async start(): Promise<void> {
    this.lastClientSeq = await currentAuthChangeSeq(this.db);
    this.addRevoked(await revokedTokensSince(this.db, '0'));
    await this.listener.start();
  }

  async stop(): Promise<void> {
    await this.listener.stop();
  }

  /** True while the `LISTEN` connection is open (false during a database outage). */
  get listening(): boolean {
    return this.listener.listening;
  }

  /** Pulls every change made since the last look (coalescing concurrent calls). */
  refresh(): Promise<void> {
    this.refreshing ??= runOutsideQueryScope(async () => {
      try {
        const [changed, revoked] = await Promise.all([
          // A small look-back covers a sequence value taken by a transaction that committed late.
          clientsChangedSince(this.db, lookBack(this.lastClientSeq)),
          revokedTokensSince(this.db, lookBack(this.lastRevokedSeq)),
        ]);
        for (const client of changed) {
          if (this.clients.has(client.clientId) || client.status === 'disabled') this.clients.set(client.clientId, client);
          if (BigInt(client.changeSeq) > BigInt(this.lastClientSeq)) this.lastClientSeq = client.changeSeq;
        }
        this.addRevoked(revoked);
        const now = Date.now();
        for (const [jti, expiresAt] of this.revoked) if (expiresAt < now) this.revoked.delete(jti);
        if (changed.length > 0 || revoked.length > 0) this.tellRefreshed();
      } catch (err) {
        this.onError(err);
      } finally {
        this.refreshing = undefined;
      }
    });
    return this.refreshing;
  }

  private tellRefreshed(): void {
    for (const listener of this.refreshedListeners) {
      try {
        listener();
      } catch (err) {
        this.onError(err);
      }
    }
  }

  private addRevoked(tokens: RevokedTokenRecord[]): void {
    for (const token of tokens) {
      this.revoked.set(token.jti, Date.parse(token.expiresAt));
      if (BigInt(token.changeSeq) > BigInt(this.lastRevokedSeq)) this.lastRevokedSeq = token.changeSeq;
    }
  }

  /** The client if this process has it cached (kept current by the notifications), else `undefined`. */
  cachedClient(clientId: string): ClientRecord | undefined {
    return this.clients.get(clientId);
  }

  /** The client, from the cache or (first use in this process) from the database. */
  async client(clientId: string): Promise<ClientRecord | undefined> {
    const cached = this.clients.get(clientId);
    if (cached) return cached;
    const loaded = await findClient(this.db, clientId);
    if (loaded) this.clients.set(clientId, loaded);
    return loaded;
  }

  /** Calls `listener` with the payload of every notification on the auth channel, and {@link RESYNC} after an outage. */
  onNotification(listener: (payload: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Calls `listener` after each refresh that read changed clients or revoked tokens (a
   * notification's, the poll's, or the one after an outage), once this state holds them: holders
   * of long-lived connections check their tokens again then (the GraphQL WebSocket closes those of
   * a disabled client or a revoked token). It may be called when nothing that matters changed.
   */
  onRefreshed(listener: () => void): void {
    this.refreshedListeners.push(listener);
  }

  /** Records a change made by this process and tells every process (this one included). */
  announce(): Promise<void> {
    return runOutsideQueryScope(async () => {
      await this.db.query(`SELECT pg_notify('${AUTH_CHANNEL}', 'changed')`);
      await this.refresh();
    });
  }

  /** True when the access token with this `jti` has been revoked. */
  isRevoked(jti: string): boolean {
    return this.revoked.has(jti);
  }
}

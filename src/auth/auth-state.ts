/**
 * What every request's authorisation needs to know about clients and revoked tokens, kept in
 * process so a request costs no database round trip (DECISIONS.md §7), and kept fresh across
 * processes: a change (client disabled, token revoked) is announced with `NOTIFY`, which every
 * process `LISTEN`s for, and each process also polls "changed since" once a second in case a
 * notification is lost. Either way a change reaches every process within about a second.
 */
import pg from 'pg';
import type { Database } from '../store/database.ts';
import {
  clientsChangedSince, currentAuthChangeSeq, findClient, revokedTokensSince, type ClientRecord, type RevokedTokenRecord,
} from '../store/oauth-repository.ts';

export const AUTH_CHANNEL = 'fhirgraph_auth';

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
  private timer: NodeJS.Timeout | undefined;
  private listener: pg.Client | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;
  private readonly listeners: ((payload: string) => void)[] = [];

  constructor(private readonly db: Database, private readonly onError: (err: unknown) => void = () => undefined) {}

  /** Loads the starting point and begins listening and polling. */
  async start(): Promise<void> {
    this.lastClientSeq = await currentAuthChangeSeq(this.db);
    this.addRevoked(await revokedTokensSince(this.db, '0'));
    await this.listen();
    this.timer = setInterval(() => void this.refresh(), POLL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.listener?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.db.databaseUrl });
    client.on('error', (err) => {
      this.onError(err);
      this.listener = undefined;
      setTimeout(() => void this.listen().catch(this.onError), 1_000).unref();
    });
    client.on('notification', (message) => {
      for (const listener of this.listeners) listener(message.payload ?? '');
      void this.refresh();
    });
    await client.connect();
    await client.query(`LISTEN ${AUTH_CHANNEL}`);
    this.listener = client;
  }

  /** Pulls every change made since the last look (coalescing concurrent calls). */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
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
      } catch (err) {
        this.onError(err);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private addRevoked(tokens: RevokedTokenRecord[]): void {
    for (const token of tokens) {
      this.revoked.set(token.jti, Date.parse(token.expiresAt));
      if (BigInt(token.changeSeq) > BigInt(this.lastRevokedSeq)) this.lastRevokedSeq = token.changeSeq;
    }
  }

  /** The client, from the cache or (first use in this process) from the database. */
  async client(clientId: string): Promise<ClientRecord | undefined> {
    const cached = this.clients.get(clientId);
    if (cached) return cached;
    const loaded = await findClient(this.db, clientId);
    if (loaded) this.clients.set(clientId, loaded);
    return loaded;
  }

  /** Calls `listener` with the payload of every notification on the auth channel. */
  onNotification(listener: (payload: string) => void): void {
    this.listeners.push(listener);
  }

  /** Records a change made by this process and tells every process (this one included). */
  async announce(): Promise<void> {
    await this.db.query(`SELECT pg_notify('${AUTH_CHANNEL}', 'changed')`);
    await this.refresh();
  }

  /** True when the access token with this `jti` has been revoked. */
  isRevoked(jti: string): boolean {
    return this.revoked.has(jti);
  }
}

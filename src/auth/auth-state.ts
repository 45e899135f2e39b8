/**
 * What every request's authorisation needs to know about clients and revoked tokens, kept in
 * process so a request costs no database round trip (DECISIONS.md §7), and kept fresh across
 * processes: a change (client disabled, token revoked) is announced with `NOTIFY`, which every
 * process `LISTEN`s for, and each process also polls "changed since" once a second in case a
 * notification is lost. Either way a change reaches every process within about a second.
 *
 * Database outages: the listening connection is re-opened for as long as it takes, with backoff
 * (0.25 s doubling to 2 s), and each time it is back the state catches up with one poll; the poll
 * itself only reports its failures and tries again a second later.
 *
 * Polls, announcements and reconnections are background work: one started by a request (a
 * revocation, a client disabled over the admin API) runs outside that request's scope, so it
 * neither takes the request's connection slots nor stops when the request's client goes away.
 */
import pg from 'pg';
import type { Database } from '../store/database.ts';
import { runOutsideQueryScope } from '../store/query-scope.ts';
import {
  clientsChangedSince, currentAuthChangeSeq, findClient, revokedTokensSince, type ClientRecord, type RevokedTokenRecord,
} from '../store/oauth-repository.ts';

export const AUTH_CHANNEL = 'fhirgraph_auth';
/** The payload {@link AuthState.onNotification} listeners get after a lost `LISTEN` connection is back: notifications may have been missed, so re-read everything. */
export const RESYNC = '*';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function lookBack(seq: string): string {
  const value = BigInt(seq) - 50n;
  return (value > 0n ? value : 0n).toString();
}
const POLL_MS = 1_000;
/** Backoff between attempts to re-open the listening connection. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 2_000;

/** The per-process view of clients and revocations. */
export class AuthState {
  private readonly clients = new Map<string, ClientRecord>();
  private readonly revoked = new Map<string, number>();
  private lastClientSeq = '0';
  private lastRevokedSeq = '0';
  private timer: NodeJS.Timeout | undefined;
  private listener: pg.Client | undefined;
  private reconnecting: Promise<void> | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;
  private readonly listeners: ((payload: string) => void)[] = [];

  constructor(private readonly db: Database, private readonly onError: (err: unknown) => void = () => undefined) {}

  /** Loads the starting point and begins listening and polling. */
  async start(): Promise<void> {
    this.lastClientSeq = await currentAuthChangeSeq(this.db);
    this.addRevoked(await revokedTokensSince(this.db, '0'));
    await this.listen();
    this.timer = runOutsideQueryScope(() => setInterval(() => void this.refresh(), POLL_MS));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.reconnecting;
  }

  /** True while the `LISTEN` connection is open (false during a database outage). */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** Opens the `LISTEN` connection; a later loss of it starts {@link reconnect}. Throws when it cannot. */
  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.db.databaseUrl, connectionTimeoutMillis: 5_000 });
    let lost = false;
    const onLost = (err?: unknown) => {
      if (lost) return;
      lost = true;
      if (err) this.onError(err);
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => undefined);
      this.reconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      for (const listener of this.listeners) listener(message.payload ?? '');
      void this.refresh();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${AUTH_CHANNEL}`);
    } catch (err) {
      lost = true; // a failed attempt is retried by the caller, not by the handlers above
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
  }

  /**
   * Re-opens the `LISTEN` connection, retrying with backoff for as long as it takes, then catches
   * up with one poll: notifications sent while nobody listened are lost, the changes are not.
   */
  private reconnect(): void {
    if (this.stopped || this.reconnecting) return;
    this.reconnecting = runOutsideQueryScope(async () => {
      for (let delay = RECONNECT_MIN_MS; !this.stopped; delay = Math.min(delay * 2, RECONNECT_MAX_MS)) {
        await sleep(delay * (0.8 + 0.4 * Math.random()));
        if (this.stopped) return;
        try {
          await this.listen();
          await this.refresh();
          // Whatever else was announced meanwhile (a key rotation) is re-read by its listener.
          for (const listener of this.listeners) listener(RESYNC);
          return;
        } catch (err) {
          this.onError(err);
        }
      }
    }).finally(() => {
      this.reconnecting = undefined;
      // Lost again before this round ended (its loss found a round under way): go round again.
      if (!this.listener) this.reconnect();
    });
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
      } catch (err) {
        this.onError(err);
      } finally {
        this.refreshing = undefined;
      }
    });
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

  /** Calls `listener` with the payload of every notification on the auth channel, and {@link RESYNC} after an outage. */
  onNotification(listener: (payload: string) => void): void {
    this.listeners.push(listener);
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

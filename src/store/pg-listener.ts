/**
 * One `LISTEN` connection that survives database outages, plus the poll that backs it up: the
 * way every process learns what other processes changed (revocations, the change feed) within
 * about a second. https://www.postgresql.org/docs/current/sql-notify.html
 *
 * A notification is not durable: it is lost when nobody listens (the connection was down) and
 * may be lost under load, so users keep their truth in tables and treat a notification as a hint
 * to look. Hence two safety nets: `onPoll` runs every `pollMs`, and `onReconnected` runs each
 * time a lost connection is back. The connection is re-opened for as long as it takes, with
 * backoff (0.25 s doubling to 2 s, with jitter).
 *
 * Polls, reconnections and their callbacks are background work: they run outside any API
 * request's scope (connection slots, statement timeout, cancellation), even when a request's
 * handler was running when they were scheduled.
 */
import pg from 'pg';
import { runOutsideQueryScope } from './query-scope.ts';

/** What a {@link PgListener} listens on and whom it tells. */
export interface PgListenerOptions {
  /** The connection string (may hold a password: never logged). */
  databaseUrl: string;
  /** Channel names: identifiers (letters, digits, `_`), sent quoted. */
  channels: readonly string[];
  /** Called with every notification on one of the channels. */
  onNotification(channel: string, payload: string): void;
  /** Called once a lost connection is back: notifications sent meanwhile were lost, so catch up. */
  onReconnected?(): Promise<void> | void;
  /** Called every {@link pollMs}, the safety net for notifications lost some other way. */
  onPoll?(): Promise<void> | void;
  /** Poll period in milliseconds (default 1000); no poll without `onPoll`. */
  pollMs?: number;
  /** Reports failures (a lost connection, a failed reconnection attempt, a failed callback). */
  onError?(err: unknown): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

const CHANNEL = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** Backoff between attempts to re-open the listening connection. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 2_000;

/** A `LISTEN` connection re-opened after every loss, and a poll timer. */
export class PgListener {
  private client: pg.Client | undefined;
  private reconnecting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly onError: (err: unknown) => void;

  constructor(private readonly options: PgListenerOptions) {
    for (const channel of options.channels) {
      if (!CHANNEL.test(channel)) throw new Error(`Invariant failed: "${channel}" is not a plain channel name`);
    }
    this.onError = options.onError ?? (() => undefined);
  }

  /** Opens the connection (throws when it cannot) and starts the poll. */
  async start(): Promise<void> {
    this.stopped = false;
    await runOutsideQueryScope(() => this.listen());
    const { onPoll } = this.options;
    if (onPoll) {
      this.timer = runOutsideQueryScope(() => setInterval(() => void this.call(onPoll), this.options.pollMs ?? 1_000));
      this.timer.unref();
    }
  }

  /** Stops polling, closes the connection and waits for a reconnection under way to give up. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
    await this.reconnecting;
  }

  /** True while the `LISTEN` connection is open (false during a database outage). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  private async call(callback: () => Promise<void> | void): Promise<void> {
    try {
      await callback();
    } catch (err) {
      this.onError(err);
    }
  }

  /** Opens the connection; a later loss of it starts {@link reconnect}. Throws when it cannot. */
  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl, connectionTimeoutMillis: 5_000 });
    let lost = false;
    const onLost = (err?: unknown) => {
      if (lost) return;
      lost = true;
      if (err) this.onError(err);
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      this.reconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      try {
        this.options.onNotification(message.channel, message.payload ?? '');
      } catch (err) {
        this.onError(err);
      }
    });
    try {
      await client.connect();
      for (const channel of this.options.channels) await client.query(`LISTEN "${channel}"`);
    } catch (err) {
      lost = true; // a failed attempt is retried by the caller, not by the handlers above
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      lost = true;
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  /**
   * Re-opens the connection, retrying with backoff for as long as it takes, then lets the owner
   * catch up: notifications sent while nobody listened are lost, the changes are not.
   */
  private reconnect(): void {
    if (this.stopped || this.reconnecting) return;
    this.reconnecting = runOutsideQueryScope(async () => {
      for (let delay = RECONNECT_MIN_MS; !this.stopped; delay = Math.min(delay * 2, RECONNECT_MAX_MS)) {
        await sleep(delay * (0.8 + 0.4 * Math.random()));
        if (this.stopped) return;
        try {
          await this.listen();
        } catch (err) {
          this.onError(err);
          continue;
        }
        if (this.options.onReconnected) await this.call(this.options.onReconnected);
        return;
      }
    }).finally(() => {
      this.reconnecting = undefined;
      // Lost again before this round ended (its loss found a round under way): go round again.
      if (!this.client) this.reconnect();
    });
  }
}

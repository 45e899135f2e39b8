/**
 * SQL of webhooks' server-private state (`webhook_subscription`, migration 0007): a
 * Subscription's secret, author and delivery state, kept outside its resource JSON and never
 * returned by the API (DECISIONS.md §3). Every statement is parameterised; the dispatcher's
 * change check and each delivery's bookkeeping are one statement each.
 */
import type { Queryable } from './database.ts';

/** What a client's write does to a Subscription's secret. */
export type SecretChange = { kind: 'keep' } | { kind: 'set'; value: string } | { kind: 'clear' };

/** The private side of a Subscription written by a client. */
export interface WebhookAuthorWrite {
  id: string;
  /** The client writing it; the first one to write it stays its author. */
  clientId: string;
  /** The scope of the access token it writes with (kept while the author writes it). */
  scope: string;
  secret: SecretChange;
}

/** A Subscription with its private side, as the dispatcher and the delivery workers load it. */
export interface WebhookSubscriptionRow {
  id: string;
  /** Moves on every write of the Subscription. */
  changeSeq: string;
  authorClientId: string;
  authorScope: string;
  /** Consecutive failed delivery attempts. */
  failures: number;
  versionId: number;
  deleted: boolean;
  /** The current version's JSON text (null once deleted). */
  content: string | null;
  /** Only when asked for (`withSecret`). */
  secret?: string | null;
}

/**
 * Records clients' writes of Subscriptions (in their transaction, one statement): creates each
 * private row with the writer as author, or updates it — the author's scope only when the author
 * writes, the secret per `secret` — and moves its change sequence.
 */
export async function saveWebhookAuthorWrites(tx: Queryable, writes: readonly WebhookAuthorWrite[]): Promise<void> {
  if (writes.length === 0) return;
  await tx.query(
    `WITH w AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS w(id, secret, client, scope, change))
     INSERT INTO webhook_subscription (id, secret, author_client_id, author_scope)
     SELECT id, secret, client, scope FROM w
     ON CONFLICT (id) DO UPDATE SET
       secret = CASE WHEN (SELECT change FROM w WHERE w.id = excluded.id LIMIT 1) = 'keep'
                     THEN webhook_subscription.secret ELSE excluded.secret END,
       author_scope = CASE WHEN webhook_subscription.author_client_id = excluded.author_client_id
                           THEN excluded.author_scope ELSE webhook_subscription.author_scope END,
       change_seq = nextval('webhook_change_seq')`,
    [
      writes.map((w) => w.id), writes.map((w) => (w.secret.kind === 'set' ? w.secret.value : null)),
      writes.map((w) => w.clientId), writes.map((w) => w.scope), writes.map((w) => w.secret.kind),
    ],
  );
}

/**
 * Records writes that are not a client's own change of a Subscription (the server's status
 * bookkeeping, deletes), one statement: moves each change sequence, and forgets the secret of a
 * deleted one.
 */
export async function touchWebhookSubscriptions(tx: Queryable, touches: readonly { id: string; deleted: boolean }[]): Promise<void> {
  if (touches.length === 0) return;
  await tx.query(
    `UPDATE webhook_subscription w SET change_seq = nextval('webhook_change_seq'),
       secret = CASE WHEN t.deleted THEN NULL ELSE w.secret END
       FROM unnest($1::text[], $2::bool[]) AS t(id, deleted)
      WHERE w.id = t.id`,
    [touches.map((t) => t.id), touches.map((t) => t.deleted)],
  );
}

/**
 * A number that changes whenever any Subscription is written (the sum of the change sequences:
 * every write replaces a row's value by a larger one, whatever order transactions commit in).
 */
export async function readWebhookFingerprint(q: Queryable): Promise<string> {
  const rows = await q.query<{ sum: string }>('SELECT coalesce(sum(change_seq), 0)::text AS sum FROM webhook_subscription');
  return rows[0]?.sum ?? '0';
}

/** Every Subscription's change sequence, by id. */
export async function readWebhookChangeSeqs(q: Queryable): Promise<Map<string, string>> {
  const rows = await q.query<{ id: string; changeSeq: string }>('SELECT id, change_seq::text AS "changeSeq" FROM webhook_subscription');
  return new Map(rows.map((r) => [r.id, r.changeSeq]));
}

/** Loads Subscriptions with their private side (and secret when asked), in one statement. */
export async function readWebhookSubscriptions(q: Queryable, ids: readonly string[], options: { withSecret?: boolean } = {}): Promise<Map<string, WebhookSubscriptionRow>> {
  if (ids.length === 0) return new Map();
  const rows = await q.query<WebhookSubscriptionRow>(
    `SELECT w.id, w.change_seq::text AS "changeSeq", w.author_client_id AS "authorClientId", w.author_scope AS "authorScope",
            w.failures, r.version_id AS "versionId", r.deleted, r.content::text AS content
            ${options.withSecret ? ', w.secret' : ''}
       FROM webhook_subscription w
       JOIN resource r ON r.resource_type = 'Subscription' AND r.id = w.id
      WHERE w.id = ANY($1::text[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** The attempts of one Subscription recorded together: whether one succeeded, and the failures after the last success. */
export interface AttemptTally {
  id: string;
  /** True when an attempt succeeded: the count restarts from `failed`. */
  reset: boolean;
  /** Failed attempts (after the last success, when `reset`). */
  failed: number;
}

/**
 * Records delivery attempts' results in the caller's transaction (one statement): a success
 * resets a Subscription's count of consecutive failures, each failure after it adds one. Returns
 * the new counts by Subscription id.
 */
export async function recordWebhookAttempts(tx: Queryable, tallies: readonly AttemptTally[]): Promise<Map<string, number>> {
  if (tallies.length === 0) return new Map();
  const rows = await tx.query<{ id: string; failures: number }>(
    `UPDATE webhook_subscription w SET failures = CASE WHEN t.reset THEN t.failed ELSE w.failures + t.failed END
       FROM unnest($1::text[], $2::bool[], $3::int[]) AS t(id, reset, failed)
      WHERE w.id = t.id AND (t.failed > 0 OR w.failures <> 0)
      RETURNING w.id, w.failures`,
    [tallies.map((t) => t.id), tallies.map((t) => t.reset), tallies.map((t) => t.failed)],
  );
  return new Map(rows.map((r) => [r.id, r.failures]));
}

/** The clients that created Subscriptions (their authors), by Subscription id (unknown ones absent). */
export async function readWebhookAuthors(q: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await q.query<{ id: string; author: string }>(
    'SELECT id, author_client_id AS author FROM webhook_subscription WHERE id = ANY($1::text[])', [ids]);
  return new Map(rows.map((r) => [r.id, r.author]));
}

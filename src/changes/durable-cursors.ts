/**
 * Durable cursors: named positions in the feed kept in PostgreSQL for server-side consumers that
 * must survive a crash and that every process can take over (the webhook dispatcher,
 * DECISIONS.md §11). Retention never prunes past the lowest of them. Saving takes a
 * `Queryable`, so a consumer moves its cursor in the same transaction as the work it records
 * (enqueuing deliveries): then a crash either keeps both or neither.
 */
import { claimChangeCursor, createChangeCursor, deleteChangeCursor, loadChangeCursor, saveChangeCursor } from '../store/change-event-repository.ts';
import type { Queryable } from '../store/database.ts';
import { decodeCursor, encodeCursor } from './feed-cursor.ts';

/** Creates or moves the durable cursor `name` to `cursor` (400 for a cursor that is not ours). */
export async function saveDurableCursor(q: Queryable, name: string, cursor: string): Promise<void> {
  await saveChangeCursor(q, name, decodeCursor(cursor));
}

/** The durable cursor `name`, or `undefined` when there is none. */
export async function loadDurableCursor(q: Queryable, name: string): Promise<string | undefined> {
  const position = await loadChangeCursor(q, name);
  return position === undefined ? undefined : encodeCursor(position);
}

/** Creates the durable cursor `name` at `cursor` unless it exists (then it stays where it is). */
export async function createDurableCursor(q: Queryable, name: string, cursor: string): Promise<void> {
  await createChangeCursor(q, name, decodeCursor(cursor));
}

/**
 * Locks the durable cursor `name` for the caller's transaction and returns it, or `undefined`
 * when another transaction holds it (or there is none): a consumer whose rounds must not overlap
 * across processes runs a round only when it gets the cursor.
 */
export async function claimDurableCursor(tx: Queryable, name: string): Promise<string | undefined> {
  const position = await claimChangeCursor(tx, name);
  return position === undefined ? undefined : encodeCursor(position);
}

/** Removes the durable cursor `name`, releasing the events only it held back from retention. */
export async function deleteDurableCursor(q: Queryable, name: string): Promise<void> {
  await deleteChangeCursor(q, name);
}

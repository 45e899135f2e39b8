/**
 * An update or delete of one ordinary resource in two round trips to PostgreSQL instead of four
 * (`BEGIN`, the lock round, the write, `COMMIT`): its state is read without locks, the write is
 * planned from it, and the one write statement (versions, index rows, change event, AuditEvent)
 * runs on its own, taking the resource's write lock before it writes. A writer that stored the
 * resource's next version in between makes that statement fail as a whole (the history row's
 * primary key), and the caller then writes under locks as before, so clients see the same answers
 * (If-Match 412, consecutive versions) as a locked write gives.
 * https://hl7.org/fhir/R4/http.html#concurrency
 */
import type { Database } from '../store/database.ts';
import { readStates } from '../store/resource-repository.ts';
import { StaleStateError } from '../store/stale-state-error.ts';
import type { RequestContext } from './request-context.ts';
import { applyWrites, type WriteOp, type WriteOptions, type WriteResult, type WriteRules } from './write-ops.ts';

/**
 * Types whose writes run more than one statement (a Subscription's private side, a Binary's bytes,
 * an Appointment's Slots), or that other writes lock and read first (Slots), or that live
 * elsewhere (AuditEvent): always written under locks.
 */
const LOCKED_TYPES = new Set(['Subscription', 'Binary', 'Appointment', 'Slot', 'AuditEvent']);

/** True for a write {@link writeUnlocked} may run: an update or delete of an ordinary resource. */
export function isUnlockedWrite(op: WriteOp): boolean {
  return (op.kind === 'update' || op.kind === 'delete') && op.emitChange !== false && !LOCKED_TYPES.has(op.resourceType);
}

/**
 * Runs `op` as described above; resolves with its results, or `undefined` when another writer got
 * there first and nothing was stored (the caller writes under locks then). Errors of the write
 * itself (404, 410, 412, 422) are thrown as a locked write throws them.
 */
export async function writeUnlocked(db: Database, op: WriteOp, ctx: RequestContext, rules: WriteRules, options: WriteOptions): Promise<WriteResult[] | undefined> {
  const states = await readStates(db, [{ resourceType: op.resourceType, id: op.id }]);
  try {
    return await db.transaction((tx) => applyWrites(tx, [op], ctx, rules, { ...options, readStates: states, last: true }));
  } catch (err) {
    if (err instanceof StaleStateError) return undefined;
    throw err;
  }
}

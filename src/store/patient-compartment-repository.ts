/**
 * Runs the Patient compartment SQL (src/search/patient-compartment.ts): the compartment of a list
 * of patients a page at a time, the types present in it, and the resources its members refer to.
 * Each call is one statement, whatever the number of compartment parameters or patients.
 * `$everything` (src/service/patient-everything.ts) builds on it; so can Bulk Data's Patient- and
 * Group-level `$export` ({@link readPatientCompartment} with the group's patients).
 */
import {
  buildCompartmentMembersQuery, buildCompartmentMemberTypesQuery, buildCompartmentReferencesQuery,
  type CompartmentSelection, type ReferenceSelection, type StreamKey,
} from '../search/patient-compartment.ts';
import type { Queryable } from './database.ts';
import type { StoredVersion } from './resource-repository.ts';

export type { CompartmentSelection, ReferenceSelection, StreamKey };

function withDate<T extends { lastUpdated: Date | string | null }>(row: T): T {
  if (typeof row.lastUpdated === 'string') row.lastUpdated = new Date(row.lastUpdated);
  return row;
}

/**
 * The live resources in the Patient compartment of `selection.patientIds` (the patients themselves
 * when `selection.withPatients`), of the member types in `selection.pairs`, last updated at or
 * after `selection.since`, in (resource type, id) order after `after`, at most `limit` of them:
 * one statement. Page through a compartment by passing the last row's key as the next `after`.
 * The caller narrows the pairs to the types the client may read (patientCompartmentPairs).
 */
export async function readPatientCompartment(
  db: Queryable, selection: CompartmentSelection, after: StreamKey | undefined, limit: number,
): Promise<StoredVersion[]> {
  if (selection.patientIds.length === 0 || limit <= 0) return [];
  const { sql, params } = buildCompartmentMembersQuery(selection, after, limit);
  return (await db.query<StoredVersion>(sql, params)).map(withDate);
}

/** The types that have live members in the compartment among `selection.pairs` (one statement). */
export async function findCompartmentMemberTypes(db: Queryable, selection: CompartmentSelection): Promise<string[]> {
  if (selection.patientIds.length === 0 || selection.pairs.types.length === 0) return [];
  const { sql, params } = buildCompartmentMemberTypesQuery(selection);
  return (await db.query<{ resourceType: string }>(sql, params)).map((r) => r.resourceType);
}

/** A page of the resources a compartment refers to, and what was left out of it. */
export interface CompartmentReferences {
  /** Readable referenced resources after `after`, in (type, id) order, at most the limit asked. */
  rows: StoredVersion[];
  /** Referenced types the caller may not read (their resources exist and were left out). */
  hiddenTypes: string[];
  /** True when the compartment had more members than `maxWalked`: the rest's references were not followed. */
  truncated: boolean;
}

/**
 * The resources the compartment's members refer to (relative `Type/id` references and absolute
 * ones under the server's base, found anywhere in the stored JSON), one level deep, that are not
 * members themselves: one statement per page.
 */
export async function readCompartmentReferences(
  db: Queryable, selection: ReferenceSelection, after: StreamKey | undefined, limit: number,
): Promise<CompartmentReferences> {
  const result: CompartmentReferences = { rows: [], hiddenTypes: [], truncated: false };
  if (selection.walk.patientIds.length === 0) return result;
  const { sql, params } = buildCompartmentReferencesQuery(selection, after, Math.max(limit, 0));
  for (const row of await db.query<StoredVersion & { kind: number }>(sql, params)) {
    if (row.kind === 0) {
      const { kind: _kind, ...version } = row;
      result.rows.push(withDate(version));
    } else if (row.kind === 1) {
      result.hiddenTypes.push(row.resourceType);
    } else {
      result.truncated = true;
    }
  }
  return result;
}

/**
 * Up to `limit` live Patient ids after `after` (exclusive) and up to `through` (inclusive) when
 * given, in id order: the batches `Patient/$everything` walks all patients in.
 */
export async function readPatientIds(db: Queryable, after: string | undefined, through: string | undefined, limit: number): Promise<string[]> {
  const params: unknown[] = [limit];
  let sql = `SELECT id FROM resource WHERE resource_type = 'Patient' AND NOT deleted`;
  if (after !== undefined) sql += ` AND id > $${params.push(after)}`;
  if (through !== undefined) sql += ` AND id <= $${params.push(through)}`;
  sql += ' ORDER BY id LIMIT $1';
  return (await db.query<{ id: string }>(sql, params)).map((r) => r.id);
}

/**
 * SQL of the audit trail (`audit_event`, migration 0010): an append-only table partitioned by
 * month, one row per AuditEvent with the columns its searches need. The server's own events are
 * inserted as facts (projected as FHIR AuditEvent on read, src/service/audit/audit-projection.ts);
 * an AuditEvent an admin client posts keeps its JSON in `content`, the searched columns extracted
 * from it here, in SQL. Every insert is one statement per batch (`json_to_recordset`), whatever
 * its size; there is no update or delete, and retention drops whole partitions.
 */
import type { Queryable, QueryOptions } from './database.ts';

/** One stored AuditEvent as the read side gets it. */
export interface AuditEventRow {
  id: string;
  recorded: Date;
  /** `meta.lastUpdated` of a posted AuditEvent; null for the server's own (equal to `recorded`). */
  lastUpdated: Date | null;
  action: string | null;
  interaction: string | null;
  outcome: string | null;
  outcomeDesc: string | null;
  clientId: string | null;
  claimedClientId: string | null;
  clientName: string | null;
  ip: string | null;
  entities: string[];
  entityDetail: { type: string; valueString: string }[] | null;
  query: string | null;
  /** The JSON text of a posted (or migrated) AuditEvent; null for the server's own. */
  content: string | null;
}

/** One of the server's own AuditEvents to insert. */
export interface AuditEventInsert {
  id: string;
  recorded: Date;
  action: string;
  interaction: string;
  outcome: string;
  outcomeDesc: string;
  typeSystem: string;
  typeCode: string;
  subtypeSystem: string;
  subtypeCode: string;
  clientId?: string;
  claimedClientId?: string;
  clientName: string;
  ip?: string;
  entities: string[];
  entityDetail?: { type: string; valueString: string }[];
  query?: string;
}

/** The columns of {@link AuditEventRow}, for every SELECT of this file and the search SQL. */
export const AUDIT_ROW_COLUMNS = `a.id, a.recorded, a.last_updated AS "lastUpdated", a.action, a.interaction, a.outcome,
  a.description AS "outcomeDesc", a.client_id AS "clientId", a.claimed_client_id AS "claimedClientId",
  a.client_name AS "clientName", a.ip, a.entities, a.entity_detail AS "entityDetail", a.query, a.content::text AS content`;

/** Turns the driver's timestamps (text with this pool's setup) into `Date`s. */
export function withAuditDates(row: AuditEventRow): AuditEventRow {
  if (typeof row.recorded === 'string') row.recorded = new Date(row.recorded);
  if (typeof row.lastUpdated === 'string') row.lastUpdated = new Date(row.lastUpdated);
  return row;
}

/**
 * The INSERT of the server's own AuditEvents whose rows are the JSON array in parameter `param`
 * (`$1`): a statement of its own ({@link insertAuditEvents}), or a data-modifying CTE of the
 * resource store's write statement, so a write and its event are one statement.
 */
export function auditInsertSql(param: string): string {
  return `INSERT INTO audit_event (id, recorded, action, interaction, outcome, description, type_system, type_code, subtype_system,
        subtype_code, client_id, claimed_client_id, client_name, ip, entities, entity_detail, query)
      SELECT id, recorded, action, interaction, outcome, "outcomeDesc", "typeSystem", "typeCode", "subtypeSystem",
        "subtypeCode", "clientId", "claimedClientId", "clientName", ip, coalesce(entities, '{}'), "entityDetail", query
        FROM json_to_recordset(${param}::json) AS r(id text, recorded timestamptz, action text, interaction text, outcome text,
          "outcomeDesc" text, "typeSystem" text, "typeCode" text, "subtypeSystem" text, "subtypeCode" text, "clientId" text,
          "claimedClientId" text, "clientName" text, ip text, entities text[], "entityDetail" jsonb, query text)`;
}

const INSERT_AUDIT_EVENTS_SQL = auditInsertSql('$1');

/** Inserts the server's own AuditEvents in one statement (`options` as for any statement of a transaction). */
export async function insertAuditEvents(q: Queryable, events: readonly AuditEventInsert[], options?: QueryOptions): Promise<void> {
  if (events.length === 0) return;
  await q.query(INSERT_AUDIT_EVENTS_SQL, [JSON.stringify(events)], options);
}

/** A posted AuditEvent: its id, `meta.lastUpdated` and stored JSON text. */
export interface PostedAuditEvent {
  id: string;
  lastUpdated: Date;
  content: string;
}

/**
 * Inserts AuditEvents an admin client posted (their stored JSON as it is), extracting the searched
 * columns in SQL. The JSON texts are spliced into the statement's one parameter, not re-serialised.
 */
export async function insertPostedAuditEvents(q: Queryable, events: readonly PostedAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const json = `[${events.map((e) => `{"id":${JSON.stringify(e.id)},"lu":${JSON.stringify(e.lastUpdated.toISOString())},"c":${e.content}}`).join(',')}]`;
  await q.query(
    `INSERT INTO audit_event (id, recorded, last_updated, action, outcome, type_system, type_code, subtype_system, subtype_code,
        client_id, entities, content)
      SELECT v.id, coalesce((v.c ->> 'recorded')::timestamptz, v.lu), v.lu, v.c ->> 'action', v.c ->> 'outcome',
        v.c -> 'type' ->> 'system', v.c -> 'type' ->> 'code', v.c -> 'subtype' -> 0 ->> 'system', v.c -> 'subtype' -> 0 ->> 'code',
        coalesce(v.c -> 'agent' -> 0 -> 'who' -> 'identifier' ->> 'value', v.c -> 'agent' -> 0 -> 'who' ->> 'reference'),
        ARRAY(SELECT e -> 'what' ->> 'reference' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(v.c -> 'entity') = 'array' THEN v.c -> 'entity' ELSE '[]' END) e
               WHERE e -> 'what' ->> 'reference' IS NOT NULL),
        v.c
        FROM json_to_recordset($1::json) AS v(id text, lu timestamptz, c jsonb)`,
    [json],
  );
}

/** Reads AuditEvents by id (missing ones are absent). */
export async function readAuditEvents(q: Queryable, ids: readonly string[]): Promise<AuditEventRow[]> {
  if (ids.length === 0) return [];
  const rows = await q.query<AuditEventRow>(`SELECT ${AUDIT_ROW_COLUMNS} FROM audit_event a WHERE a.id = ANY($1::text[])`, [ids]);
  return rows.map(withAuditDates);
}

/** True when an AuditEvent with this id exists. */
export async function auditEventExists(q: Queryable, id: string): Promise<boolean> {
  return (await q.query(`SELECT 1 FROM audit_event WHERE id = $1 LIMIT 1`, [id])).length > 0;
}

/**
 * Creates the monthly partitions from this month to `monthsAhead` months ahead (those missing;
 * rows the DEFAULT partition holds for one are moved into it).
 */
export async function ensureAuditPartitions(q: Queryable, monthsAhead: number): Promise<void> {
  await q.query(
    `SELECT audit_event_ensure_partition(m::date) FROM generate_series(
       date_trunc('month', now() AT TIME ZONE 'UTC'), date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => $1::int),
       interval '1 month') AS m`,
    [monthsAhead],
  );
}

/** Drops the monthly partitions that end at or before `cutoff`; resolves with how many. */
export async function dropAuditPartitionsBefore(q: Queryable, cutoff: Date): Promise<number> {
  const rows = await q.query<{ n: number }>(`SELECT audit_event_drop_before($1::timestamptz) AS n`, [cutoff.toISOString()]);
  return rows[0].n;
}

/**
 * SQL text for the Patient compartment of a list of patients (R4 CompartmentDefinition
 * `patient`, https://hl7.org/fhir/R4/compartmentdefinition-patient.html): the patients themselves
 * plus every live resource whose reference search parameter named by the definition points at one
 * of them. Membership is read from the reference search index in one statement for all member
 * types and parameters at once (a join on the (type, param) pairs), never one per parameter.
 * Pages are keyset-paged over (resource type, id), so a next page is stable while data changes.
 *
 * `$everything` also needs what the compartment refers to, including references no search
 * parameter indexes: {@link buildCompartmentReferencesQuery} walks the stored JSON of the members
 * (`$.**.reference`) in PostgreSQL and returns the referenced resources that are not members.
 * Pure: it builds SQL, the store runs it (src/store/patient-compartment-repository.ts).
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import { AUDIT_EVENT_JSON } from './sql/audit-event-json.ts';
import { SqlParams } from './sql/sql-params.ts';

/** The (resource type, search parameter) pairs that put resources of `types` in a patient's compartment. */
export interface CompartmentPairs {
  types: string[];
  params: string[];
}

/** The pairs of the R4 Patient compartment for the member types `types` (types outside it have none). */
export function patientCompartmentPairs(model: FhirModel, types: readonly string[]): CompartmentPairs {
  const pairs: CompartmentPairs = { types: [], params: [] };
  for (const type of types) {
    for (const param of model.getCompartmentParams('Patient', type)) {
      pairs.types.push(type);
      pairs.params.push(param);
    }
  }
  return pairs;
}

/** A position in a (resource type, id) ordered stream: the last row a page returned. */
export interface StreamKey {
  resourceType: string;
  id: string;
}

/** What a compartment query selects. */
export interface CompartmentSelection {
  /** The patients whose compartment it is (one for `Patient/{id}/$everything`, several for export). */
  patientIds: readonly string[];
  /** The member pairs to look through (already narrowed to the wanted, readable types). */
  pairs: CompartmentPairs;
  /** Whether the patients themselves are wanted (they are members of their own compartment). */
  withPatients: boolean;
  /** Only resources last updated at or after this instant (`_since`). */
  since?: string;
}

export interface BuiltSql {
  sql: string;
  params: unknown[];
}

const ROW_COLUMNS = `r.resource_type AS "resourceType", r.id, r.version_id AS "versionId", r.last_updated AS "lastUpdated",
    r.deleted, r.content::text AS content`;

/** The member keys of a compartment (possibly several rows per key: callers take DISTINCT or UNION). */
function memberKeys(selection: CompartmentSelection, p: SqlParams, after?: StreamKey): string {
  const patients = p.add(selection.patientIds, 'text[]');
  const keyset = after ? ` AND (s.resource_type, s.resource_id) > (${p.add(after.resourceType)}, ${p.add(after.id)})` : '';
  const branches = [];
  if (selection.pairs.types.length > 0) {
    branches.push(`SELECT s.resource_type, s.resource_id AS id FROM search_reference s
      JOIN unnest(${p.add(selection.pairs.types, 'text[]')}, ${p.add(selection.pairs.params, 'text[]')}) AS pair(resource_type, param)
        ON pair.resource_type = s.resource_type AND pair.param = s.param
     WHERE s.target_type = 'Patient' AND s.target_id = ANY(${patients})${keyset}`);
  }
  if (selection.withPatients) {
    const selfKeyset = after ? ` AND ('Patient', self.id) > (${p.add(after.resourceType)}, ${p.add(after.id)})` : '';
    branches.push(`SELECT 'Patient'::text, self.id FROM unnest(${patients}) AS self(id) WHERE true${selfKeyset}`);
  }
  if (branches.length === 0) branches.push('SELECT NULL::text, NULL::text WHERE false');
  return branches.join('\n    UNION\n    ');
}

function sinceCondition(selection: CompartmentSelection, p: SqlParams): string {
  return selection.since === undefined ? '' : ` AND r.last_updated >= ${p.add(selection.since, 'timestamptz')}`;
}

/**
 * One page of the compartment: its live members after `after` in (type, id) order, at most
 * `limit` rows (ask one more than the page to learn whether another page follows).
 */
export function buildCompartmentMembersQuery(selection: CompartmentSelection, after: StreamKey | undefined, limit: number): BuiltSql {
  const p = new SqlParams();
  const members = memberKeys(selection, p, after);
  const since = sinceCondition(selection, p);
  const audit = selection.pairs.types.includes('AuditEvent') ? `
  UNION ALL
  ${auditMembers(selection, p, after)}` : '';
  const sql = `WITH member(resource_type, id) AS (
    ${members}
  )
  SELECT ${ROW_COLUMNS}
    FROM member m JOIN resource r ON r.resource_type = m.resource_type AND r.id = m.id
   WHERE NOT r.deleted${since}${audit}
   ORDER BY 1, 2
   LIMIT ${p.add(limit)}`;
  return { sql, params: p.values };
}

/**
 * The AuditEvents of the compartment (those naming one of the patients as an entity): rows of the
 * audit trail's own table, which the reference index does not hold (migration 0010).
 */
function auditMembers(selection: CompartmentSelection, p: SqlParams, after?: StreamKey): string {
  const keyset = after ? ` AND ('AuditEvent', a.id) > (${p.add(after.resourceType)}::text, ${p.add(after.id)}::text)` : '';
  const since = selection.since === undefined ? '' : ` AND coalesce(a.last_updated, a.recorded) >= ${p.add(selection.since, 'timestamptz')}`;
  return `SELECT 'AuditEvent'::text, a.id, 1, coalesce(a.last_updated, a.recorded), false, ${AUDIT_EVENT_JSON}
    FROM audit_event a
   WHERE a.entities && ${p.add(selection.patientIds.map((id) => `Patient/${id}`), 'text[]')}${keyset}${since}`;
}

/**
 * The types that have live members in the compartment among `selection.pairs` (used with the
 * pairs the caller may not read, to report what was left out), one row per type.
 */
export function buildCompartmentMemberTypesQuery(selection: CompartmentSelection): BuiltSql {
  const p = new SqlParams();
  const members = memberKeys({ ...selection, withPatients: false }, p);
  const since = sinceCondition(selection, p);
  const sql = `WITH member(resource_type, id) AS (
    ${members}
  )
  SELECT DISTINCT r.resource_type AS "resourceType"
    FROM member m JOIN resource r ON r.resource_type = m.resource_type AND r.id = m.id
   WHERE NOT r.deleted${since}${selection.pairs.types.includes('AuditEvent') ? `
  UNION
  SELECT 'AuditEvent' FROM (${auditMembers(selection, p)} LIMIT 1) any_audit` : ''}`;
  return { sql, params: p.values };
}

/** What {@link buildCompartmentReferencesQuery} looks for. */
export interface ReferenceSelection {
  /** The compartment whose members' references are followed: all readable members, whatever `_type` and `_since` say. */
  walk: CompartmentSelection;
  /** Walk the references of at most this many members (in (type, id) order); a row of kind 2 says there were more. */
  maxWalked: number;
  /** The server's FHIR base URL: absolute references under it are local. */
  fhirBaseUrl: string;
  /** The types the caller may read; referenced resources of other types come back as kind-1 rows (type only). */
  readable: readonly string[];
  /** The types wanted (`_type`); undefined: every type. */
  wanted?: readonly string[];
  /** `_since` for the referenced resources. */
  since?: string;
}

/**
 * One page of the resources the compartment's members refer to (one level deep) that are not
 * members themselves, in (type, id) order after `after`: rows of kind 0 (at most `limit`), then
 * one kind-1 row per referenced type the caller may not read (no content), then a kind-2 row when
 * the compartment had more than `maxWalked` members, whose references were not followed.
 */
export function buildCompartmentReferencesQuery(selection: ReferenceSelection, after: StreamKey | undefined, limit: number): BuiltSql {
  const p = new SqlParams();
  const members = memberKeys(selection.walk, p);
  const base = `${selection.fhirBaseUrl}/`;
  const baseParam = p.add(base);
  const maxWalked = p.add(selection.maxWalked, 'int');
  const wanted = selection.wanted ? ` AND r.resource_type = ANY(${p.add(selection.wanted, 'text[]')})` : '';
  const since = selection.since === undefined ? '' : ` AND r.last_updated >= ${p.add(selection.since, 'timestamptz')}`;
  const readable = p.add(selection.readable, 'text[]');
  const keyset = after ? ` AND (r.resource_type, r.id) > (${p.add(after.resourceType)}, ${p.add(after.id)})` : '';
  const sql = `WITH member(resource_type, id) AS (
    ${members}
  ),
  walked AS (
    SELECT r.content, row_number() OVER (ORDER BY r.resource_type, r.id) AS n
      FROM member m JOIN resource r ON r.resource_type = m.resource_type AND r.id = m.id
     WHERE NOT r.deleted
     ORDER BY r.resource_type, r.id
     LIMIT ${maxWalked} + 1
  ),
  reference_text AS (
    SELECT DISTINCT v.value #>> '{}' AS text
      FROM walked w CROSS JOIN LATERAL jsonb_path_query(w.content::jsonb, 'strict $.**.reference') AS v(value)
     WHERE w.n <= ${maxWalked} AND jsonb_typeof(v.value) = 'string'
  ),
  reference_path AS (
    SELECT CASE WHEN starts_with(text, ${baseParam}) THEN substr(text, length(${baseParam}) + 1) ELSE text END AS path FROM reference_text
  ),
  reference AS (
    SELECT split_part(path, '/', 1) AS resource_type, split_part(path, '/', 2) AS id FROM reference_path
     WHERE split_part(path, '/', 2) <> '' AND (split_part(path, '/', 3) = '' OR split_part(path, '/', 3) = '_history')
    EXCEPT
    SELECT resource_type, id FROM member
  ),
  target AS (
    SELECT r.resource_type, r.id, r.version_id, r.last_updated, r.deleted, r.content
      FROM reference x JOIN resource r ON r.resource_type = x.resource_type AND r.id = x.id
     WHERE NOT r.deleted${wanted}${since}
  )
  SELECT * FROM (
    (SELECT 0 AS kind, ${ROW_COLUMNS} FROM target r
      WHERE r.resource_type = ANY(${readable})${keyset}
      ORDER BY r.resource_type, r.id LIMIT ${p.add(limit)})
    UNION ALL
    (SELECT DISTINCT 1, r.resource_type, NULL, NULL::int, NULL::timestamptz, NULL::boolean, NULL::text FROM target r
      WHERE NOT (r.resource_type = ANY(${readable})))
    UNION ALL
    (SELECT 2, NULL, NULL, NULL::int, NULL::timestamptz, NULL::boolean, NULL::text WHERE EXISTS (SELECT 1 FROM walked WHERE n > ${maxWalked}))
  ) page
  ORDER BY kind, "resourceType", id`;
  return { sql, params: p.values };
}

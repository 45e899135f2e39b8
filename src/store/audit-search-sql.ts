/**
 * The SQL of an AuditEvent search over `audit_event` (migration 0010): the parameters the audit
 * trail's columns answer (`_id`, `_lastUpdated`, `date`, `action`, `outcome`, `type`, `subtype`,
 * `agent` (the client; of a posted event, any agent's reference or, `:identifier`, identifier),
 * `entity`, `patient` (a Patient entity or agent)), a compartment (an entity in it), sort on `date` or `_lastUpdated` either
 * way with `id` as the tiebreak, keyset paging and the count for `_total`. Values are compared
 * with the generic engine's value conditions (src/search/sql/value-conditions.ts), so prefixes,
 * partial dates and token forms mean what they mean everywhere else.
 * https://hl7.org/fhir/R4/auditevent.html#search
 */
import { badRequest } from '../fhir/outcomes.ts';
import type { PageCursor } from '../search/page-cursor.ts';
import type { SearchCriterion, SearchRequest } from '../search/search-request.ts';
import { splitEscaped, unescapeValue } from '../search/search-values.ts';
import { SqlParams } from '../search/sql/sql-params.ts';
import { dateCondition, tokenCondition, type TokenColumns } from '../search/sql/value-conditions.ts';
import { AUDIT_EVENT_JSON } from '../search/sql/audit-event-json.ts';
import { AUDIT_ROW_COLUMNS } from './audit-repository.ts';

/** The parameters `audit_event` answers (the others are refused like unknown ones, src/service/audit/audit-search.ts). */
export const AUDIT_SEARCH_PARAMS = new Set(['_id', '_lastUpdated', 'date', 'action', 'outcome', 'type', 'subtype', 'agent', 'entity', 'patient']);

/** The agents of a posted AuditEvent (the server's own have their client in `client_id`). */
const POSTED_AGENTS = `jsonb_array_elements(CASE WHEN jsonb_typeof(a.content -> 'agent') = 'array' THEN a.content -> 'agent' ELSE '[]' END)`;

const LAST_UPDATED = 'coalesce(a.last_updated, a.recorded)';

const TOKENS: Record<string, TokenColumns> = {
  action: { system: `'http://hl7.org/fhir/audit-event-action'`, code: 'a.action', text: 'a.action' },
  outcome: { system: `'http://hl7.org/fhir/audit-event-outcome'`, code: 'a.outcome', text: 'a.outcome' },
  type: { system: 'a.type_system', code: 'a.type_code', text: 'a.type_code' },
  subtype: { system: 'a.subtype_system', code: 'a.subtype_code', text: 'a.subtype_code' },
};

/** A reference search value as stored (`Patient/1`): the server's base URL taken off, a `:Type` modifier put on. */
function referenceOf(raw: string, modifier: string | undefined, fhirBaseUrl: string): string {
  let value = unescapeValue(raw);
  if (value.startsWith(`${fhirBaseUrl}/`)) value = value.slice(fhirBaseUrl.length + 1);
  return modifier && !value.includes('/') ? `${modifier}/${value}` : value;
}

function criterionSql(criterion: SearchCriterion, fhirBaseUrl: string, p: SqlParams): string {
  const { param, modifier, values } = criterion;
  const any = (parts: string[]) => (parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`);
  switch (param.code) {
    case '_id':
      return `a.id = ANY(${p.add(values.map(unescapeValue), 'text[]')})`;
    case 'date':
      return any(values.map((v) => dateCondition({ low: 'a.recorded', high: 'a.recorded', nullable: false }, v, p)));
    case '_lastUpdated':
      return any(values.map((v) => dateCondition({ low: LAST_UPDATED, high: LAST_UPDATED, nullable: false }, v, p)));
    case 'patient':
    case 'entity': {
      const references = values.map((v) => referenceOf(v, param.code === 'patient' ? 'Patient' : modifier, fhirBaseUrl))
        .filter((r) => param.code !== 'patient' || r.startsWith('Patient/'));
      if (references.length === 0) return 'false';
      const whole = references.filter((r) => r.includes('/'));
      const ids = references.filter((r) => !r.includes('/'));
      const parts = [];
      if (whole.length > 0) parts.push(`a.entities && ${p.add(whole, 'text[]')}`);
      if (ids.length > 0) parts.push(`EXISTS (SELECT 1 FROM unnest(a.entities) e WHERE split_part(e, '/', 2) = ANY(${p.add(ids, 'text[]')}))`);
      if (param.code === 'patient') parts.push(postedAgentSql(`g -> 'who' ->> 'reference' = ANY(${p.add(references, 'text[]')})`));
      return any(parts);
    }
    case 'agent': {
      if (modifier === 'identifier') return any(values.map((v) => agentIdentifierSql(v, p)));
      const agents = values.map((v) => referenceOf(v, modifier, fhirBaseUrl));
      const list = p.add(agents, 'text[]');
      return `(a.client_id = ANY(${list}) OR ${postedAgentSql(`g -> 'who' ->> 'reference' = ANY(${list})`)})`;
    }
    default: {
      const cols = TOKENS[param.code];
      if (!cols) throw badRequest(`AuditEvent cannot be searched by ${param.code}`, param.code);
      const condition = any(values.map((v) => tokenCondition(cols, v, undefined, p)));
      return modifier === 'not' ? `NOT coalesce(${condition}, false)` : condition;
    }
  }
}

/** A posted AuditEvent has an agent for which `condition` (on `g`) holds. */
function postedAgentSql(condition: string): string {
  return `(a.content IS NOT NULL AND EXISTS (SELECT 1 FROM ${POSTED_AGENTS} g WHERE ${condition}))`;
}

/** `agent:identifier=[system|]value`: the server's own events by their client, posted ones by any agent's identifier. */
function agentIdentifierSql(raw: string, p: SqlParams): string {
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length > 2) throw badRequest(`Identifier "${raw.slice(0, 80)}" must be value, system|value or |value`, 'agent:identifier');
  const [system, value] = parts.length === 2 ? parts : [undefined, parts[0]];
  const v = p.add(value);
  const own = system === undefined || system === 'urn:fhirgraph:client' ? `(a.content IS NULL AND a.client_id = ${v})` : 'false';
  const systemSql = system === undefined ? '' : system === '' ? ` AND g -> 'who' -> 'identifier' ->> 'system' IS NULL` : ` AND g -> 'who' -> 'identifier' ->> 'system' = ${p.add(system)}`;
  return `(${own} OR ${postedAgentSql(`g -> 'who' -> 'identifier' ->> 'value' = ${v}${systemSql}`)})`;
}

/** The WHERE conditions of an AuditEvent search. */
function whereClause(request: SearchRequest, fhirBaseUrl: string, p: SqlParams): string {
  const conditions = request.criteria.map((c) => criterionSql(c, fhirBaseUrl, p));
  if (request.compartment) conditions.push(`a.entities @> ${p.add([`${request.compartment.resourceType}/${request.compartment.id}`], 'text[]')}`);
  return conditions.length > 0 ? conditions.join('\n  AND ') : 'true';
}

/** The page query (rows of `audit-repository.ts` plus the keys `k0`, `k1`) and the count query. */
export interface AuditSearchQuery {
  sql: string;
  params: unknown[];
  countSql: string;
  countParams: unknown[];
}

/** The sort key of a search: `recorded` (`date`, the default) or `_lastUpdated`, and its direction. */
function sortOf(request: SearchRequest): { sql: string; descending: boolean } {
  const key = request.sort[0];
  if (!key) return { sql: 'a.recorded', descending: false };
  return { sql: key.param.code === '_lastUpdated' ? LAST_UPDATED : 'a.recorded', descending: key.descending };
}

/** Builds the page and count queries of an AuditEvent search, after (or before) `cursor`. */
export function buildAuditSearch(request: SearchRequest, fhirBaseUrl: string, cursor: PageCursor | undefined): AuditSearchQuery {
  const p = new SqlParams();
  const where = whereClause(request, fhirBaseUrl, p);
  const sort = sortOf(request);
  const forward = cursor?.forward ?? true;
  const direction = sort.descending === forward ? 'DESC' : 'ASC';
  let keyset = '';
  if (cursor) {
    const [time, id] = [p.add(cursor.values[0], 'timestamptz'), p.add(cursor.values[1])];
    keyset = `\n  AND (${sort.sql}, a.id) ${direction === 'DESC' ? '<' : '>'} (${time}, ${id})`;
  }
  const sql = `SELECT ${AUDIT_ROW_COLUMNS}, (${sort.sql})::text AS k0, a.id AS k1
  FROM audit_event a
  WHERE ${where}${keyset}
  ORDER BY ${sort.sql} ${direction}, a.id ${direction}
  LIMIT ${p.add(request.count + 1)}${!cursor && request.offset ? ` OFFSET ${p.add(request.offset)}` : ''}`;
  const c = new SqlParams();
  const countSql = `SELECT count(*)::int AS n FROM audit_event a WHERE ${whereClause(request, fhirBaseUrl, c)}`;
  return { sql, params: p.values, countSql, countParams: c.values };
}

/** What one export page of AuditEvents selects (src/operations/export/export-runner.ts). */
export interface AuditExportPage {
  transactionTime: Date;
  since?: Date;
  afterId: string;
  limit: number;
  /** `_typeFilter`s, each an AND of criteria; an event matching any one is exported. */
  filters: readonly SearchCriterion[][];
  /** Patient- and Group-level exports: events naming one of these patients (undefined: any patient) as an entity. */
  compartment?: { patientIds?: readonly string[] };
}

/**
 * The SQL of one export page of AuditEvents (`id` and `content`, the NDJSON line, in id order):
 * the events recorded at or before the export's `transactionTime` (they never change).
 */
export function buildAuditExportPage(request: AuditExportPage, fhirBaseUrl: string): { sql: string; params: unknown[] } {
  const p = new SqlParams();
  const conditions = [`a.id > ${p.add(request.afterId)}`, `${LAST_UPDATED} <= ${p.add(request.transactionTime.toISOString(), 'timestamptz')}`];
  if (request.since) conditions.push(`${LAST_UPDATED} > ${p.add(request.since.toISOString(), 'timestamptz')}`);
  if (request.filters.length > 0) {
    const each = request.filters.map((criteria) => (criteria.length === 0 ? 'true' : criteria.map((c) => criterionSql(c, fhirBaseUrl, p)).join(' AND ')));
    conditions.push(`(${each.map((c) => `(${c})`).join(' OR ')})`);
  }
  if (request.compartment) {
    const ids = request.compartment.patientIds;
    conditions.push(ids ? `a.entities && ${p.add(ids.map((id) => `Patient/${id}`), 'text[]')}` : `EXISTS (SELECT 1 FROM unnest(a.entities) e WHERE e LIKE 'Patient/%')`);
  }
  const sql = `SELECT a.id, ${AUDIT_EVENT_JSON} AS content
    FROM audit_event a
   WHERE ${conditions.join('\n     AND ')}
   ORDER BY a.id
   LIMIT ${p.add(request.limit, 'int')}`;
  return { sql, params: p.values };
}

/** Reverse references to AuditEvents: per target id, the events whose `referenceParam` names it. */
export interface AuditReverseTarget {
  referenceParam: string;
  targetType: string;
  targetIds: readonly string[];
}

/**
 * The SQL of a reverse-reference read of AuditEvents (the GraphQL `AuditEventList(_reference: …)`
 * under a resource): for each target id, up to `request.count` events naming it as an entity
 * (`entity`, `patient`) or, `agent`, as their client, matching the criteria, in sort order.
 */
export function buildAuditReverse(request: SearchRequest, target: AuditReverseTarget, fhirBaseUrl: string): { sql: string; params: unknown[] } {
  if (!['entity', 'patient', 'agent'].includes(target.referenceParam)) {
    throw badRequest(`AuditEvent is not read back by ${target.referenceParam}: use entity, patient or agent`, '_reference');
  }
  const p = new SqlParams();
  const refs = target.targetIds.map((id) => (target.referenceParam === 'agent' ? id : `${target.targetType}/${id}`));
  const pairs = `unnest(${p.add(target.targetIds, 'text[]')}, ${p.add(refs, 'text[]')}) AS t(id, ref)`;
  const where = whereClause(request, fhirBaseUrl, p);
  const sort = sortOf(request);
  const direction = sort.descending ? 'DESC' : 'ASC';
  const match = target.referenceParam === 'agent' ? 'a.client_id = t.ref' : 'a.entities @> ARRAY[t.ref]';
  const sql = `SELECT t.id AS parent, x.* FROM ${pairs}
    CROSS JOIN LATERAL (SELECT ${AUDIT_ROW_COLUMNS} FROM audit_event a WHERE ${match} AND ${where}
      ORDER BY ${sort.sql} ${direction}, a.id ${direction} LIMIT ${p.add(request.count)}) x`;
  return { sql, params: p.values };
}

/**
 * The SQL of an AuditEvent search over `audit_event` (migration 0010): the parameters the audit
 * trail's columns answer (`_id`, `_lastUpdated`, `date`, `action`, `outcome`, `type`, `subtype`,
 * `agent`, `entity`), a compartment (an entity in it), sort on `date` or `_lastUpdated` either
 * way with `id` as the tiebreak, keyset paging and the count for `_total`. Values are compared
 * with the generic engine's value conditions (src/search/sql/value-conditions.ts), so prefixes,
 * partial dates and token forms mean what they mean everywhere else.
 * https://hl7.org/fhir/R4/auditevent.html#search
 */
import { badRequest } from '../fhir/outcomes.ts';
import type { PageCursor } from '../search/page-cursor.ts';
import type { SearchCriterion, SearchRequest } from '../search/search-request.ts';
import { unescapeValue } from '../search/search-values.ts';
import { SqlParams } from '../search/sql/sql-params.ts';
import { dateCondition, tokenCondition, type TokenColumns } from '../search/sql/value-conditions.ts';
import { AUDIT_ROW_COLUMNS } from './audit-repository.ts';

/** The parameters `audit_event` answers (the others are refused like unknown ones, src/service/audit/audit-search.ts). */
export const AUDIT_SEARCH_PARAMS = new Set(['_id', '_lastUpdated', 'date', 'action', 'outcome', 'type', 'subtype', 'agent', 'entity']);

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
      return any(values.map((v) => dateCondition({ low: 'a.recorded', high: 'a.recorded' }, v, p)));
    case '_lastUpdated':
      return any(values.map((v) => dateCondition({ low: LAST_UPDATED, high: LAST_UPDATED }, v, p)));
    case 'entity': {
      const references = values.map((v) => referenceOf(v, modifier, fhirBaseUrl));
      const whole = references.filter((r) => r.includes('/'));
      const ids = references.filter((r) => !r.includes('/'));
      const parts = [];
      if (whole.length > 0) parts.push(`a.entities && ${p.add(whole, 'text[]')}`);
      if (ids.length > 0) parts.push(`EXISTS (SELECT 1 FROM unnest(a.entities) e WHERE split_part(e, '/', 2) = ANY(${p.add(ids, 'text[]')}))`);
      return any(parts);
    }
    case 'agent': {
      const agents = values.map((v) => referenceOf(v, modifier, fhirBaseUrl));
      return `a.client_id = ANY(${p.add(agents, 'text[]')})`;
    }
    default: {
      const cols = TOKENS[param.code];
      if (!cols) throw badRequest(`AuditEvent cannot be searched by ${param.code}`, param.code);
      const condition = any(values.map((v) => tokenCondition(cols, v, undefined, p)));
      return modifier === 'not' ? `NOT coalesce(${condition}, false)` : condition;
    }
  }
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

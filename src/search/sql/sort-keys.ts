/**
 * Sort expressions for `_sort` (https://hl7.org/fhir/R4/search.html#sort): a parameter's
 * smallest value for ascending, largest for descending, with missing values last either way,
 * and the stable tiebreak (type, id) every search ends with, so keyset paging is exact.
 */
import type { SortKey } from '../search-request.ts';
import type { SqlParams } from './sql-params.ts';

export interface SortExpression {
  sql: string;
  descending: boolean;
  /** SQL type of the expression, for casting cursor values. */
  type: 'text' | 'timestamptz' | 'numeric';
}

const MAX_TEXT = '\u{10FFFF}';

/** Where each parameter type's sort value comes from: its index table, column and SQL type. */
const SORT_SOURCES: Record<string, { table: string; column: (descending: boolean) => string; type: SortExpression['type'] }> = {
  date: { table: 'search_date', column: (d) => (d ? 'coalesce(x.high, x.low)' : 'coalesce(x.low, x.high)'), type: 'timestamptz' },
  number: { table: 'search_number', column: () => 'x.value', type: 'numeric' },
  quantity: { table: 'search_quantity', column: () => 'x.value', type: 'numeric' },
  string: { table: 'search_string', column: () => 'x.norm', type: 'text' },
  token: { table: 'search_token', column: () => 'x.code', type: 'text' },
  reference: { table: 'search_reference', column: () => 'coalesce(x.target_id, x.url)', type: 'text' },
  uri: { table: 'search_uri', column: () => 'x.value', type: 'text' },
};

function aggregate(table: string, column: string, descending: boolean, resourceType: string, alias: string, code: string, p: SqlParams): string {
  return `(SELECT ${descending ? 'max' : 'min'}(${column}) FROM ${table} x WHERE x.resource_type = ${p.add(resourceType)} AND x.resource_id = ${alias}.id AND x.param = ${p.add(code)})`;
}

/**
 * The sort expressions of a search on `resourceType`, ending with the tiebreak: the id alone when
 * one type is searched (so a plain page walks the primary key), else (type, id).
 */
export function sortExpressions(keys: SortKey[], resourceType: string, alias: string, p: SqlParams, singleType = false): SortExpression[] {
  const expressions: SortExpression[] = keys.map(({ param, descending }) => {
    if (param.code === '_id') return { sql: `${alias}.id`, descending, type: 'text' };
    if (param.code === '_lastUpdated') return { sql: `${alias}.last_updated`, descending, type: 'timestamptz' };
    const source = SORT_SOURCES[param.type] ?? SORT_SOURCES.uri;
    const type = source.type;
    const sql = aggregate(source.table, source.column(descending), descending, resourceType, alias, param.code, p);
    // Missing values sort last in both directions.
    const sentinel = type === 'text'
      ? (descending ? `''` : `'${MAX_TEXT}'`)
      : type === 'numeric' ? `'${descending ? '-' : ''}Infinity'::numeric` : `'${descending ? '-' : ''}infinity'::timestamptz`;
    return { sql: `coalesce(${sql}, ${sentinel})${type === 'text' ? ' COLLATE "C"' : ''}`, descending, type };
  });
  if (!singleType) expressions.push({ sql: `${alias}.resource_type`, descending: false, type: 'text' });
  expressions.push({ sql: `${alias}.id`, descending: false, type: 'text' });
  return expressions;
}

/**
 * The keyset condition selecting rows after (`forward`) or before a cursor's values in the sort
 * order: (e1 > v1) OR (e1 = v1 AND e2 > v2) OR … with each comparison turned by its direction.
 */
export function keysetCondition(expressions: SortExpression[], values: string[], forward: boolean, p: SqlParams): string {
  const placeholders = expressions.map((e, i) => p.add(values[i], e.type));
  const clauses = expressions.map((e, i) => {
    const greater = forward !== e.descending;
    const equalities = expressions.slice(0, i).map((prev, j) => `${prev.sql} = ${placeholders[j]}`);
    return `(${[...equalities, `${e.sql} ${greater ? '>' : '<'} ${placeholders[i]}`].join(' AND ')})`;
  });
  return `(${clauses.join(' OR ')})`;
}

/**
 * Writes the search index rows of resource versions (see `src/search/index-rows.ts`). The rows of
 * a batch travel as one JSON text per table that PostgreSQL expands itself (`json_to_recordset`),
 * instead of the driver escaping one array per column in JavaScript; the SQL that removes the
 * rows being replaced and inserts the new ones is a set of data-modifying CTEs, so the resource
 * store runs it inside its own write statement ({@link indexWriteCtes}) and a reindex batch is
 * one statement of its own ({@link writeIndexEntries}).
 */
import type { IndexRow } from '../search/index-rows.ts';
import type { Queryable } from './database.ts';

/** The index rows of one resource; `rows: null` for a deletion. */
export interface IndexEntry {
  resourceType: string;
  id: string;
  rows: IndexRow[] | null;
  /** False for a brand-new resource, which has no rows to remove. */
  replace: boolean;
}

/** Every search index table (one per parameter type). */
export const SEARCH_INDEX_TABLES = ['search_string', 'search_token', 'search_date', 'search_number', 'search_quantity', 'search_reference', 'search_uri', 'search_composite'];

type Kind = IndexRow['kind'];

/** Columns of each table after the (resource_type, resource_id, param) key, with their SQL types; the JSON keys are the column names. */
const COLUMNS: Record<Kind, { table: string; columns: [string, string][] }> = {
  string: { table: 'search_string', columns: [['value', 'text'], ['norm', 'text']] },
  token: { table: 'search_token', columns: [['system', 'text'], ['code', 'text'], ['text', 'text'], ['of_type', 'jsonb']] },
  date: { table: 'search_date', columns: [['low', 'timestamptz'], ['high', 'timestamptz']] },
  number: { table: 'search_number', columns: [['value', 'numeric'], ['low', 'numeric'], ['high', 'numeric']] },
  quantity: { table: 'search_quantity', columns: [['value', 'numeric'], ['low', 'numeric'], ['high', 'numeric'], ['system', 'text'], ['code', 'text'], ['unit', 'text'], ['range', 'text']] },
  reference: { table: 'search_reference', columns: [['target_type', 'text'], ['target_id', 'text'], ['url', 'text'], ['identifier_system', 'text'], ['identifier_value', 'text']] },
  uri: { table: 'search_uri', columns: [['value', 'text']] },
  composite: { table: 'search_composite', columns: [['components', 'jsonb']] },
};

const KINDS = Object.keys(COLUMNS) as Kind[];

/** How many parameters {@link indexWriteCtes} takes: one JSON text per table. */
export const INDEX_PARAM_COUNT = KINDS.length;

/** One row's JSON object (`rt`, `id`, `p`, then its table's columns by name; decimals stay strings, so exact). */
function rowObject(rt: string, id: string, row: IndexRow): Record<string, unknown> {
  switch (row.kind) {
    case 'string': return { rt, id, p: row.param, value: row.value, norm: row.norm };
    case 'token': return { rt, id, p: row.param, system: row.system, code: row.code, text: row.text ?? null, of_type: row.ofType?.length ? row.ofType : null };
    case 'date': return { rt, id, p: row.param, low: row.low, high: row.high };
    case 'number': return { rt, id, p: row.param, value: row.value, low: row.low, high: row.high };
    case 'quantity': return { rt, id, p: row.param, value: row.value, low: row.low, high: row.high, system: row.system, code: row.code, unit: row.unit, range: row.range ?? null };
    case 'reference': return {
      rt, id, p: row.param, target_type: row.targetType, target_id: row.targetId, url: row.url,
      identifier_system: row.identifierSystem ?? null, identifier_value: row.identifierValue ?? null,
    };
    case 'uri': return { rt, id, p: row.param, value: row.value };
    case 'composite': return { rt, id, p: row.param, components: row.components };
  }
}

/** A JSON `\uD800`–`\uDFFF` escape that is not itself escaped: `JSON.stringify` writes one only for a lone surrogate. */
const LONE_SURROGATE_ESCAPE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

/**
 * `JSON.stringify(value)`, a lone UTF-16 surrogate written as U+FFFD (as the driver's UTF-8
 * encoding of a text parameter does) rather than as an escape PostgreSQL refuses.
 */
function toJsonText(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\ud') ? text.replace(LONE_SURROGATE_ESCAPE, '$1\\ufffd') : text;
}

/** The parameters of {@link indexWriteCtes} for `entries`: per table, the JSON array of its new rows. */
export function indexWriteParams(entries: readonly IndexEntry[]): string[] {
  const byKind = new Map<Kind, Record<string, unknown>[]>(KINDS.map((kind) => [kind, []]));
  for (const entry of entries) {
    for (const row of entry.rows ?? []) byKind.get(row.kind)!.push(rowObject(entry.resourceType, entry.id, row));
  }
  return KINDS.map((kind) => {
    const rows = byKind.get(kind)!;
    return rows.length ? toJsonText(rows) : '[]';
  });
}

/**
 * The CTEs that replace index rows: for each table, one that deletes the rows of the resources
 * in relation `keys` (columns `rt`, `id`, `rep`) whose `rep` is true, and one that inserts the
 * rows of parameter `$first + k` (the k-th of {@link indexWriteParams}). The deletes find their
 * rows through the owner index with `= ANY (ARRAY(…))`: PostgreSQL estimates any
 * `json_to_recordset` at 100 rows, and for a plain join with the keys it chose a hash join over a
 * sequential scan of the whole table (12 ms per single-resource update at 10k resources, growing
 * with the table), where the index finds the rows in well under a millisecond. All of one statement see
 * the same snapshot, so the deletes cannot remove the rows the inserts add (the tables have no
 * unique keys for the two to collide on).
 */
export function indexWriteCtes(keys: string, first: number): string {
  return KINDS.map((kind, k) => {
    const { table, columns } = COLUMNS[kind];
    const names = columns.map(([name]) => name);
    const shape = ['rt text', 'id text', 'p text', ...columns.map(([name, type]) => `${name} ${type}`)].join(', ');
    return `d_${kind} AS (DELETE FROM ${table} t
    WHERE t.resource_id = ANY (ARRAY(SELECT id FROM ${keys} WHERE rep)) AND t.resource_type = ANY (ARRAY(SELECT rt FROM ${keys} WHERE rep))
      AND EXISTS (SELECT 1 FROM ${keys} WHERE ${keys}.rep AND ${keys}.rt = t.resource_type AND ${keys}.id = t.resource_id)),
  i_${kind} AS (INSERT INTO ${table} (resource_type, resource_id, param, ${names.join(', ')})
    SELECT rt, id, p, ${names.join(', ')} FROM json_to_recordset($${first + k}::json) AS x(${shape}))`;
  }).join(',\n  ');
}

/** Replaces the index rows of a batch of resources: one statement, whatever the batch. */
const WRITE_INDEX_SQL = `WITH k AS (SELECT * FROM json_to_recordset($1::json) AS k(rt text, id text, rep bool)),
  ${indexWriteCtes('k', 2)}
  SELECT 1`;

/** Replaces the index rows of a batch of resources in the caller's transaction (one statement). */
export async function writeIndexEntries(tx: Queryable, entries: IndexEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const keys = toJsonText(entries.map((e) => ({ rt: e.resourceType, id: e.id, rep: e.replace })));
  await tx.query(WRITE_INDEX_SQL, [keys, ...indexWriteParams(entries)], { name: 'fg_write_index_entries' });
}

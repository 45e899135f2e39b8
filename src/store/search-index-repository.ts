/**
 * Writes the search index rows of resource versions (see `src/search/index-rows.ts`): for a
 * batch of resources, one statement removes the rows of the ones being replaced or deleted, and
 * one statement inserts every new row into its table — two round trips for any batch size.
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

/** Columns of each table after the (resource_type, resource_id, param) key, with their SQL array types. */
const COLUMNS: Record<Exclude<IndexRow['kind'], never>, { table: string; columns: [string, string][] }> = {
  string: { table: 'search_string', columns: [['value', 'text'], ['norm', 'text']] },
  token: { table: 'search_token', columns: [['system', 'text'], ['code', 'text'], ['text', 'text'], ['of_type', 'jsonb']] },
  date: { table: 'search_date', columns: [['low', 'timestamptz'], ['high', 'timestamptz']] },
  number: { table: 'search_number', columns: [['value', 'numeric'], ['low', 'numeric'], ['high', 'numeric']] },
  quantity: { table: 'search_quantity', columns: [['value', 'numeric'], ['low', 'numeric'], ['high', 'numeric'], ['system', 'text'], ['code', 'text'], ['unit', 'text'], ['range', 'text']] },
  reference: { table: 'search_reference', columns: [['target_type', 'text'], ['target_id', 'text'], ['url', 'text'], ['identifier_system', 'text'], ['identifier_value', 'text']] },
  uri: { table: 'search_uri', columns: [['value', 'text']] },
  composite: { table: 'search_composite', columns: [['components', 'jsonb']] },
};

function columnValues(row: IndexRow): unknown[] {
  switch (row.kind) {
    case 'string': return [row.value, row.norm];
    case 'token': return [row.system, row.code, row.text ?? null, row.ofType?.length ? JSON.stringify(row.ofType) : null];
    case 'date': return [row.low, row.high];
    case 'number': return [row.value, row.low, row.high];
    case 'quantity': return [row.value, row.low, row.high, row.system, row.code, row.unit, row.range ?? null];
    case 'reference': return [row.targetType, row.targetId, row.url, row.identifierSystem ?? null, row.identifierValue ?? null];
    case 'uri': return [row.value];
    case 'composite': return [JSON.stringify(row.components)];
  }
}

/** Replaces the index rows of a batch of resources in the caller's transaction. */
export async function writeIndexEntries(tx: Queryable, entries: IndexEntry[]): Promise<void> {
  const replaced = entries.filter((e) => e.replace);
  if (replaced.length > 0) {
    const deletes = SEARCH_INDEX_TABLES.map((table, i) => `d${i} AS (DELETE FROM ${table} t USING k WHERE t.resource_type = k.rt AND t.resource_id = k.id)`);
    await tx.query(
      `WITH k AS (SELECT * FROM unnest($1::text[], $2::text[]) AS k(rt, id)), ${deletes.join(', ')} SELECT 1`,
      [replaced.map((e) => e.resourceType), replaced.map((e) => e.id)],
    );
  }
  const params: unknown[] = [];
  const inserts: string[] = [];
  for (const [kind, spec] of Object.entries(COLUMNS)) {
    const rows: { type: string; id: string; param: string; values: unknown[] }[] = [];
    for (const entry of entries) {
      for (const row of entry.rows ?? []) {
        if (row.kind === kind) rows.push({ type: entry.resourceType, id: entry.id, param: row.param, values: columnValues(row) });
      }
    }
    if (rows.length === 0) continue;
    const arrays: [unknown[], string][] = [
      [rows.map((r) => r.type), 'text'], [rows.map((r) => r.id), 'text'], [rows.map((r) => r.param), 'text'],
      ...spec.columns.map(([, sqlType], c): [unknown[], string] => [rows.map((r) => r.values[c]), sqlType]),
    ];
    const placeholders = arrays.map(([values, sqlType]) => {
      params.push(values);
      return `$${params.length}::${sqlType}[]`;
    });
    const columns = ['resource_type', 'resource_id', 'param', ...spec.columns.map(([name]) => name)];
    inserts.push(`i${inserts.length} AS (INSERT INTO ${spec.table} (${columns.join(', ')}) SELECT * FROM unnest(${placeholders.join(', ')}))`);
  }
  if (inserts.length > 0) await tx.query(`WITH ${inserts.join(', ')} SELECT 1`, params);
}

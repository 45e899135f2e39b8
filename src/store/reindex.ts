/**
 * Rebuilds the search index from the stored resources (`npx fhirgraph reindex [--type T]`), in
 * batches walked by (type, id) keyset, each batch in its own transaction, reporting progress.
 * Needed after a change to the index extraction; a running server can keep serving meanwhile.
 */
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { extractIndexRows } from '../search/extract-index-rows.ts';
import type { Database } from './database.ts';
import { writeIndexEntries } from './search-index-repository.ts';

const BATCH = 500;

export interface ReindexProgress {
  done: number;
  total: number;
}

/** Re-extracts and rewrites the index rows of every live resource (of `resourceType`, if given). */
export async function reindex(db: Database, options: { resourceType?: string; baseUrl?: string; onProgress?: (p: ReindexProgress) => void } = {}): Promise<number> {
  const filter = options.resourceType ? 'AND resource_type = $1' : '';
  const base = options.resourceType ? [options.resourceType] : [];
  const [{ n: total }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource WHERE NOT deleted ${filter}`, base);
  let done = 0;
  let after: [string, string] = ['', ''];
  for (;;) {
    const params = [...base, after[0], after[1], BATCH];
    const k = base.length;
    const rows = await db.query<{ resourceType: string; id: string; content: string }>(
      `SELECT resource_type AS "resourceType", id, content::text AS content FROM resource
        WHERE NOT deleted ${filter} AND (resource_type, id) > ($${k + 1}, $${k + 2})
        ORDER BY resource_type, id LIMIT $${k + 3}`,
      params,
    );
    if (rows.length === 0) break;
    const entries = rows.map((row) => ({
      resourceType: row.resourceType,
      id: row.id,
      rows: extractIndexRows(parseFhirJson(row.content) as Record<string, unknown>, { baseUrl: options.baseUrl }),
      replace: true,
    }));
    await db.transaction((tx) => writeIndexEntries(tx, entries));
    done += rows.length;
    options.onProgress?.({ done, total });
    const last = rows[rows.length - 1];
    after = [last.resourceType, last.id];
  }
  return done;
}

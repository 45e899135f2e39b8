/**
 * The benchmark's database: `fhirgraph_bench_<scale>` on the PostgreSQL of `DATABASE_URL` (or on
 * the embedded cluster in `.bench-data/` when it is unset). Small scales are reloaded on every run
 * (the load rate is one of the figures); from 100k on, a database that already holds the same
 * scale's data (table `bench_meta`) is kept unless `--reseed`, and its recorded load rate is
 * reported with the date it was measured.
 */
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import { SEARCH_INDEX_TABLES } from '../../src/store/search-index-repository.ts';

export interface SeedFigure {
  resources: number;
  seconds: number;
  resourcesPerSecond: number;
  /** When the load was measured (earlier than the run when the data was kept). */
  measuredAt: string;
}

export interface BenchDatabase {
  url: string;
  name: string;
  /** The recorded load of a kept database; undefined when it must be loaded now. */
  kept?: SeedFigure;
  recordSeed(figure: SeedFigure): Promise<void>;
  close(): Promise<void>;
}

const REUSE_FROM_SCALE = 100_000;

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Finds the PostgreSQL to use: `DATABASE_URL`'s server, or the embedded one. */
async function adminServer(log: (m: string) => void): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url) return { adminUrl: url, stop: async () => undefined };
  log('DATABASE_URL is not set: using the embedded PostgreSQL in .bench-data/');
  const embedded = await startEmbeddedPostgres({ dataDir: '.bench-data', log });
  return { adminUrl: embedded.databaseUrl, stop: () => embedded.stop() };
}

export async function prepareBenchDatabase(scaleLabel: string, scale: number, reseed: boolean, log: (m: string) => void): Promise<BenchDatabase> {
  const server = await adminServer(log);
  const name = `fhirgraph_bench_${scaleLabel.replace(/[^a-z0-9]/g, '_')}`;
  const url = withDatabase(server.adminUrl, name);
  let kept: SeedFigure | undefined;
  const exists = (await query(server.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0;
  if (exists && !reseed && scale >= REUSE_FROM_SCALE) {
    const rows = await query<{ result: SeedFigure }>(url, `SELECT result FROM bench_meta WHERE scale = $1`, [String(scale)]).catch(() => []);
    kept = rows[0]?.result;
  }
  if (!kept) {
    // Identifiers cannot be parameters; `name` is built from [a-z0-9_] only.
    await query(server.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await query(server.adminUrl, `CREATE DATABASE ${name}`);
  }
  return {
    url,
    name,
    kept,
    async recordSeed(figure) {
      await query(url, 'CREATE TABLE IF NOT EXISTS bench_meta (scale text PRIMARY KEY, result json NOT NULL)');
      await query(url, `INSERT INTO bench_meta (scale, result) VALUES ($1, $2) ON CONFLICT (scale) DO UPDATE SET result = excluded.result`, [String(scale), JSON.stringify(figure)]);
    },
    close: () => server.stop(),
  };
}

export { query as benchQuery };

/**
 * The system of what write workloads create: the identifier of the Patients of `create`,
 * `graphql-mutation` and `create-raw` (`workloads.ts`), and the `meta.tag` of every resource of
 * the Health Samurai CRUD mix and Bundle load (`bench/health-samurai/`).
 */
export const BENCH_WRITE_SYSTEM = 'urn:bench';

/**
 * Removes the resources that write workloads created (and their history, index rows and change
 * events), so a kept data set stays the data set it was loaded as. Returns how many.
 */
export async function removeBenchWrites(url: string): Promise<number> {
  const doomed = `SELECT resource_type, id FROM resource
     WHERE (resource_type = 'Patient' AND content->'identifier'->0->>'system' = $1)
        OR (content->'meta'->'tag')::jsonb @> jsonb_build_array(jsonb_build_object('system', $1::text))`;
  const deletes = [...SEARCH_INDEX_TABLES, 'resource_history', 'change_event'].map((table, i) =>
    `d${i} AS (DELETE FROM ${table} t USING doomed WHERE t.resource_type = doomed.resource_type AND t.${table.startsWith('search_') ? 'resource_id' : 'id'} = doomed.id)`);
  const rows = await query<{ n: number }>(url,
    `WITH doomed AS (${doomed}), ${deletes.join(', ')},
       gone AS (DELETE FROM resource r USING doomed WHERE r.resource_type = doomed.resource_type AND r.id = doomed.id RETURNING 1)
     SELECT count(*)::int AS n FROM gone`, [BENCH_WRITE_SYSTEM]);
  return rows[0].n;
}

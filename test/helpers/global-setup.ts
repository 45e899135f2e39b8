/**
 * vitest global setup (runs once per `vitest run`, in the main process): finds the PostgreSQL the
 * tests use — `DATABASE_URL` if set, else an embedded cluster in `.test-data/` — creates a fresh
 * template database migrated to the current schema, and provides both to the test files, which
 * clone the template into a database of their own (`createTestDatabase`, DECISIONS.md §9).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config.ts';
import { isAlive, startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import { migrateDatabase } from '../../src/store/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A database URL with the right to create and drop databases; may contain a password, never log it. */
    adminDatabaseUrl: string;
    /** The migrated template database that each test file's database is cloned from. */
    templateDatabase: string;
  }
}

/** Where the embedded test cluster lives (gitignored); kept between runs so only the first run pays for `initdb`. */
const TEST_DATA_DIR = fileURLToPath(new URL('../../.test-data', import.meta.url));

/** Throwaway data: durability settings off make CREATE DATABASE and the tests several times faster. */
const FAST_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

/** `url` with its database name replaced by `database`. */
function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates the template, migrates it, and closes it to connections so clones never find it busy. */
async function createTemplate(adminUrl: string): Promise<string> {
  const template = `fhirgraph_tpl_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${template}`);
  try {
    await migrateDatabase(withDatabase(adminUrl, template));
    await adminQuery(adminUrl, `ALTER DATABASE ${template} WITH ALLOW_CONNECTIONS false`);
  } catch (err) {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => undefined);
    throw err;
  }
  return template;
}

/**
 * The embedded test cluster, shared by concurrent `vitest run`s in the same checkout: each run holds
 * a lease file while it runs, and the last one out stops the cluster, whichever run started it.
 */
async function startTestCluster(): Promise<{ adminUrl: string; release(): Promise<void> }> {
  const leases = path.join(TEST_DATA_DIR, 'leases');
  await fs.mkdir(leases, { recursive: true });
  const lease = path.join(leases, String(process.pid));
  await fs.writeFile(lease, '');
  const embedded = await startEmbeddedPostgres({ dataDir: TEST_DATA_DIR, settings: FAST_SETTINGS });
  const release = async () => {
    await fs.rm(lease, { force: true });
    const others = (await fs.readdir(leases)).map(Number).filter((pid) => pid !== process.pid && isAlive(pid));
    if (others.length > 0) return;
    if (!embedded.reused) return embedded.stop();
    await stopByPidFile(path.join(TEST_DATA_DIR, 'pg', 'postmaster.pid'));
  };
  return { adminUrl: withDatabase(embedded.databaseUrl, 'postgres'), release };
}

/** Fast shutdown of a cluster this run reused (its starter has finished), waiting for it to go. */
async function stopByPidFile(pidFile: string): Promise<void> {
  const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid) && waited < 60_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
}

/** vitest `globalSetup`: provides the admin URL and template name; the returned teardown undoes it all. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { databaseUrl } = loadConfig();
  const started = Date.now();
  const cluster = databaseUrl
    ? { adminUrl: databaseUrl, release: async () => undefined }
    : await startTestCluster();
  let template: string;
  try {
    template = await createTemplate(cluster.adminUrl);
  } catch (err) {
    await cluster.release();
    throw err;
  }
  const where = databaseUrl ? `DATABASE_URL (${new URL(databaseUrl).host})` : `embedded PostgreSQL in ${TEST_DATA_DIR}`;
  console.log(`[global-setup] tests use ${where}; template ${template} ready in ${Date.now() - started} ms`);
  project.provide('adminDatabaseUrl', cluster.adminUrl);
  project.provide('templateDatabase', template);
  return async () => {
    try {
      await adminQuery(cluster.adminUrl, `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    } finally {
      await cluster.release();
    }
  };
}

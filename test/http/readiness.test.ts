/**
 * `GET /readyz` (CONTRACT.md): 200 when the database answers, every migration is applied, no
 * committed change waits long for its feed position and no startable job waits long in the queue;
 * 503 naming the failing check otherwise. Public (no token), not audited. Each failure is caused
 * for real in the test's own database: an unapplied migration, an unstamped change, an old job.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let t: TestServer;
let sql: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  // The sequencer looks for changes nobody stamped only every 10 minutes here, so one written
  // behind the server's back stays unstamped for as long as the test needs.
  t = await startTestServer({ changes: { retentionMs: 86_400_000, pollMs: 600_000 }, readiness: { maxFeedLagMs: 5_000, maxQueueAgeMs: 60_000 } }, db);
  sql = new pg.Client({ connectionString: db.databaseUrl });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
  await t?.close();
  await db?.drop();
});

interface Check { name: string; status: string; observed?: unknown; reason?: string }

/** `/readyz` once the answer it may reuse (250 ms) has gone stale, so it sees the test's last change. */
async function readyz(): Promise<{ status: number; body: { status: string; checks: Check[] }; cacheControl: string | null }> {
  await new Promise((r) => setTimeout(r, 300));
  const res = await fetch(`${t.url}/readyz`);
  return { status: res.status, body: await res.json() as { status: string; checks: Check[] }, cacheControl: res.headers.get('cache-control') };
}

const failing = (checks: Check[]) => checks.filter((c) => c.status === 'fail').map((c) => c.name);

describe('GET /readyz', () => {
  it('answers 200 without a token, naming every check, and is not audited', async () => {
    // Every event but the test server's own token request at start, whenever its buffer is flushed.
    const events = async () => (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event WHERE interaction IS DISTINCT FROM 'token'`)).rows[0].n;
    const before = await events();
    const res = await readyz();
    expect(res.status).toBe(200);
    expect(res.cacheControl).toBe('no-store');
    expect(res.body.status).toBe('ready');
    expect(res.body.checks.map((c) => c.name)).toEqual(['database', 'migrations', 'change-feed-lag', 'job-queue-age']);
    expect(failing(res.body.checks)).toEqual([]);
    await new Promise((r) => setTimeout(r, 600)); // past the audit log's 250 ms buffer
    expect(await events()).toBe(before);
  });

  it('answers a flood of 400 concurrent probes from one shared assessment while a client is served', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Probed' }] } });
    const { rows: [{ before }] } = await sql.query<{ before: number }>(
      `SELECT coalesce(sum(xact_commit), 0)::int AS before FROM pg_stat_database WHERE datname = current_database()`,
    );
    const flood = Array.from({ length: 400 }, () => fetch(`${t.url}/readyz`).then((r) => r.status));
    const read = await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(new Set(await Promise.all(flood))).toEqual(new Set([200]));
    const { rows: [{ after }] } = await sql.query<{ after: number }>(
      `SELECT coalesce(sum(xact_commit), 0)::int AS after FROM pg_stat_database WHERE datname = current_database()`,
    );
    // Four statements per assessment, a few assessments at most in the flood's time, plus the read
    // and background work: far below the 1,600 statements of one assessment per probe.
    expect(after - before).toBeLessThan(400);
  });

  it('answers 503 naming the migration the database has not applied', async () => {
    const { rows } = await sql.query<{ name: string }>('SELECT name FROM mikro_orm_migrations ORDER BY id DESC LIMIT 1');
    await sql.query('DELETE FROM mikro_orm_migrations WHERE name = $1', [rows[0].name]);
    try {
      const res = await readyz();
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('not ready');
      expect(failing(res.body.checks)).toEqual(['migrations']);
      const check = res.body.checks.find((c) => c.name === 'migrations')!;
      expect(check.observed).toEqual([expect.stringContaining(rows[0].name.replace(/\.[jt]s$/, ''))]);
    } finally {
      await sql.query('INSERT INTO mikro_orm_migrations (name) VALUES ($1)', [rows[0].name]);
    }
    expect((await readyz()).status).toBe(200);
  });

  it('answers 503 while a committed change has waited past READY_MAX_FEED_LAG for its feed position', async () => {
    const { rows } = await sql.query<{ seq: string }>(
      `INSERT INTO change_event (resource_type, id, version_id, action, recorded_at) VALUES ('Patient', 'readyz-lag', 1, 'create', now() - interval '1 minute') RETURNING seq`,
    );
    try {
      const res = await readyz();
      expect(res.status).toBe(503);
      expect(failing(res.body.checks)).toEqual(['change-feed-lag']);
      const check = res.body.checks.find((c) => c.name === 'change-feed-lag')!;
      expect(check.observed).toBeGreaterThanOrEqual(60_000);
      expect(check.reason).toMatch(/limit 5000 ms/);
    } finally {
      await sql.query('DELETE FROM change_event WHERE seq = $1', [rows[0].seq]);
    }
    expect((await readyz()).status).toBe(200);
  });

  it('answers 503 while a startable job has waited past READY_MAX_QUEUE_AGE, and not for a job due later', async () => {
    await sql.query(`SELECT pgboss.create_queue('readyz-probe', '{}'::json)`);
    await sql.query(`INSERT INTO pgboss.job (name, data, start_after) VALUES ('readyz-probe', '{}', now() + interval '1 hour')`);
    expect((await readyz()).status).toBe(200);
    await sql.query(`INSERT INTO pgboss.job (name, data, start_after) VALUES ('readyz-probe', '{}', now() - interval '10 minutes')`);
    try {
      const res = await readyz();
      expect(res.status).toBe(503);
      expect(failing(res.body.checks)).toEqual(['job-queue-age']);
      expect(res.body.checks.find((c) => c.name === 'job-queue-age')!.observed).toBeGreaterThanOrEqual(600_000);
    } finally {
      await sql.query(`DELETE FROM pgboss.job WHERE name = 'readyz-probe'`);
    }
    expect((await readyz()).status).toBe(200);
  });
});

describe('READY_MAX_FEED_LAG and READY_MAX_QUEUE_AGE', () => {
  it('default to 30 s and 5 min, take durations, and refuse what is none at start', () => {
    expect(loadConfig({}).readiness).toEqual({ maxFeedLagMs: 30_000, maxQueueAgeMs: 300_000 });
    expect(loadConfig({ READY_MAX_FEED_LAG: '90s', READY_MAX_QUEUE_AGE: '10m' }).readiness).toEqual({ maxFeedLagMs: 90_000, maxQueueAgeMs: 600_000 });
    expect(() => loadConfig({ READY_MAX_FEED_LAG: 'soon' })).toThrow(/READY_MAX_FEED_LAG/);
  });
});

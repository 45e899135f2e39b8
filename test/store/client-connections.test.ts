/**
 * Issue 14, second review, item 4: one client could take the whole pool. Twelve slow searches sent
 * at once by one client held every pooled connection (`DB_POOL_SIZE` 10), so every other client's
 * reads, token requests and `/healthz` waited for a connection. Now one client's requests hold at
 * most `DB_CLIENT_CONNECTIONS` connections (its other statements wait up to
 * `DB_ACQUIRE_TIMEOUT_MS`, then answer 503 with `Retry-After`), and a request that runs past
 * `REQUEST_TIMEOUT` has its statement cancelled and answers 503 `timeout`.
 *
 * Searches are made slow deterministically: another session locks the string index.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { startBystander } from '../helpers/bystander.ts';
import { withStringIndexLocked } from '../helpers/string-index-lock.ts';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

const ACTIVE_SEARCHES = `SELECT count(*)::int AS n FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%NOT r.deleted%'`;

let t: TestServer;
let strict: TestServer;
let hasty: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  // One connection per client, given up on after 300 ms.
  strict = await startTestServer({ dbClientConnections: 1, dbAcquireTimeoutMs: 300 });
  // Statements could run a minute; the request may take one second.
  hasty = await startTestServer({ limits: { ...DEFAULT_LIMITS, statementTimeoutMs: 60_000, requestTimeoutMs: 1_000 } });
});
afterAll(async () => {
  await Promise.all([t?.close(), strict?.close(), hasty?.close()]);
});

async function activeSearches(admin: pg.Client): Promise<number> {
  return (await admin.query<{ n: number }>(ACTIVE_SEARCHES)).rows[0].n;
}

function slowSearch(server: TestServer, token: string): Promise<FhirResponse> {
  return fhirFetch(`${server.url}/fhir/Patient?name=nobody`, { token });
}

function slowGraphQL(server: TestServer, token: string): Promise<FhirResponse> {
  return fhirFetch(`${server.url}/graphql`, {
    method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ PatientList(name: "nobody") { id } }' }),
  });
}

describe('connections per client', () => {
  it('lets one client\'s 12 concurrent slow searches hold at most DB_CLIENT_CONNECTIONS connections while another client reads, gets tokens and /healthz', async () => {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', token: t.adminToken, body: { resourceType: 'Patient', name: [{ family: 'Reader' }] } });
    const reader = await t.createClient({ name: 'reader', scope: 'system/Patient.rs' });
    const readerToken = await t.tokenFor(reader.refresh_token!);
    const hog = await t.tokenWithScope('system/Patient.rs');
    let searches: Promise<FhirResponse[]> | undefined;
    let watch: ReturnType<typeof startBystander> | undefined;
    const mostActive = await withStringIndexLocked(t, async (admin) => {
      searches = Promise.all(Array.from({ length: 12 }, () => slowSearch(t, hog)));
      watch = startBystander({ url: t.url, patientPath: `/fhir/Patient/${patient.body.id}`, refreshToken: reader.refresh_token!, accessToken: readerToken });
      let most = 0;
      for (const until = Date.now() + 2_000; Date.now() < until;) {
        most = Math.max(most, await activeSearches(admin));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return most;
    });
    const answers = await searches!;
    const report = await watch!.stop();
    expect(mostActive).toBeGreaterThan(0);
    expect(mostActive).toBeLessThanOrEqual(t.config.dbClientConnections);
    expect(t.config.dbClientConnections).toBe(Math.floor(t.config.poolSize / 2));
    expect(answers.map((a) => a.status).every((s) => s === 200)).toBe(true);
    expect(report.failures).toEqual([]);
    expect(report.slowestMs).toBeLessThan(1_000);
  });

  it('answers 503 with Retry-After when a client\'s statement waits longer than DB_ACQUIRE_TIMEOUT_MS for one of its slots (REST and GraphQL)', async () => {
    const token = await strict.tokenWithScope('system/Patient.rs');
    const other = await strict.tokenWithScope('system/Patient.rs');
    await withStringIndexLocked(strict, async (admin) => {
      const first = slowSearch(strict, token);
      for (let i = 0; i < 100 && (await activeSearches(admin)) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      const [rest, graphql, otherClient] = await Promise.all([
        slowSearch(strict, token),
        slowGraphQL(strict, token),
        // Another client is not held up by the first one's slot: its read needs no string index.
        fhirFetch(`${strict.url}/fhir/Patient/unknown`, { token: other }),
      ]);
      expect(rest.status).toBe(503);
      expect(rest.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(rest.body.resourceType).toBe('OperationOutcome');
      expect(rest.body.issue[0].diagnostics).toContain('DB_CLIENT_CONNECTIONS');
      expect(graphql.body.errors?.[0]?.extensions?.code, graphql.text.slice(0, 300)).toBe('SERVICE_UNAVAILABLE');
      expect(otherClient.status).toBe(404);
      await admin.query('SELECT 1');
      void first;
    });
  });

  it('cancels a request that runs past REQUEST_TIMEOUT and answers 503 saying it timed out (REST and GraphQL)', async () => {
    const token = await hasty.tokenWithScope('system/Patient.rs');
    await withStringIndexLocked(hasty, async (admin) => {
      const [rest, graphql] = await Promise.all([slowSearch(hasty, token), slowGraphQL(hasty, token)]);
      expect(rest.status, rest.text.slice(0, 300)).toBe(503);
      expect(rest.body.resourceType).toBe('OperationOutcome');
      expect(rest.body.issue[0].code).toBe('timeout');
      expect(rest.body.issue[0].diagnostics).toMatch(/timed out/);
      expect(graphql.body.errors?.[0]?.extensions?.code, graphql.text.slice(0, 300)).toBe('SERVICE_UNAVAILABLE');
      expect(graphql.body.errors?.[0]?.message).toMatch(/timed out/);
      // The statements went with their requests.
      for (let i = 0; i < 50 && (await activeSearches(admin)) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await activeSearches(admin)).toBe(0);
    });
  });
});

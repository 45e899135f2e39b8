/**
 * One request may hold only a few of the pool's connections at once (`DB_REQUEST_CONNECTIONS`).
 * A GraphQL operation runs its root fields in parallel, so 100 aliased searches that the database
 * made slow used to take all ten pooled connections: every other client, reading a Patient by id,
 * then waited for a connection until it got a 503. Here the searches are made slow
 * deterministically (another session holds a lock on the string index for two seconds), and a
 * bystander reading Patients by id must be answered within 1 s throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBystander } from '../helpers/bystander.ts';
import { withStringIndexLocked } from '../helpers/string-index-lock.ts';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => { await t?.close(); });

const ACTIVE_SEARCHES = `SELECT count(*)::int AS n FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%NOT r.deleted%'`;

describe('connections per request', () => {
  it('lets one GraphQL operation of 100 slow aliased searches hold at most DB_REQUEST_CONNECTIONS connections while others are served', async () => {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Reader' }] } });
    const reader = await t.createClient({ name: 'reader', scope: 'system/Patient.rs' });
    const readerToken = await t.tokenFor(reader.refresh_token!);
    const query = `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: PatientList(name: "n${i}", _count: 1) { id }`).join(' ')} }`;
    let operation: Promise<FhirResponse> | undefined;
    let watch: ReturnType<typeof startBystander> | undefined;
    // The lock holds every search for two seconds, then goes.
    const mostActive = await withStringIndexLocked(t, async (admin) => {
      operation = fhirFetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      watch = startBystander({ url: t.url, patientPath: `/fhir/Patient/${patient.body.id}`, refreshToken: reader.refresh_token!, accessToken: readerToken });
      let most = 0;
      for (const until = Date.now() + 2_000; Date.now() < until;) {
        most = Math.max(most, (await admin.query<{ n: number }>(ACTIVE_SEARCHES)).rows[0].n);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return most;
    });
    const answer = await operation!;
    const report = await watch!.stop();
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    expect(Object.keys(answer.body.data)).toHaveLength(100);
    expect(mostActive).toBeGreaterThan(0);
    expect(mostActive).toBeLessThanOrEqual(t.config.dbRequestConnections);
    expect(report.failures).toEqual([]);
    expect(report.slowestMs).toBeLessThan(1_000);
  });
});

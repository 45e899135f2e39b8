/**
 * Issue 14 item 4, the backstops behind the search limits: an API request's statement is cut off
 * by `STATEMENT_TIMEOUT` (503 with an OperationOutcome; GraphQL `SERVICE_UNAVAILABLE`), and a
 * client that disconnects takes its running statement with it (REST and GraphQL), where it used to
 * run on for a minute holding a pooled connection. Statements outside API requests (CLI commands,
 * migrations, background work) are not cut off.
 *
 * A search is made slow deterministically: another session holds an ACCESS EXCLUSIVE lock on the
 * string index, so the search waits (as an active statement) until it is cancelled or times out.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { withStringIndexLocked } from '../helpers/string-index-lock.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

/** Matches the page and count statements of a search (they all filter out deleted resources). */
const SEARCH_STATEMENTS = `SELECT count(*)::int AS n FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%NOT r.deleted%'`;

let patient: TestServer;
let hasty: TestServer;

beforeAll(async () => {
  // The default timeout (long enough that only a disconnect can explain a fast cancel)…
  patient = await startTestServer({ limits: { ...DEFAULT_LIMITS, statementTimeoutMs: 60_000 } });
  // …and a short one.
  hasty = await startTestServer({ limits: { ...DEFAULT_LIMITS, statementTimeoutMs: 500 } });
});
afterAll(async () => {
  await patient?.close();
  await hasty?.close();
});

async function activeSearches(admin: pg.Client): Promise<number> {
  return (await admin.query<{ n: number }>(SEARCH_STATEMENTS)).rows[0].n;
}

/** Polls until `predicate` holds; returns the milliseconds it took, or throws after `withinMs`. */
async function waitFor(predicate: () => Promise<boolean>, withinMs: number): Promise<number> {
  const started = performance.now();
  while (!(await predicate())) {
    if (performance.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return performance.now() - started;
}

const graphqlBody = JSON.stringify({ query: '{ PatientList(name: "smith") { id } }' });

function send(t: TestServer, kind: 'rest' | 'graphql', signal: AbortSignal): Promise<Response> {
  const headers = { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' };
  return kind === 'rest'
    ? fetch(`${t.url}/fhir/Patient?name=smith&_total=accurate`, { headers, signal })
    : fetch(`${t.url}/graphql`, { method: 'POST', headers, body: graphqlBody, signal });
}

describe('a client that disconnects cancels its running statement', () => {
  it.each(['rest', 'graphql'] as const)('%s: no active statement of an aborted search is left while the lock it waits on is still held', async (kind) => {
    await withStringIndexLocked(patient, async (admin) => {
      const client = new AbortController();
      const answer = send(patient, kind, client.signal).catch((err: Error) => err);
      await waitFor(async () => (await activeSearches(admin)) > 0, 5_000);
      client.abort();
      expect(await answer).toBeInstanceOf(Error);
      // Without the cancel the statement would wait on the lock for as long as it is held, which
      // is until this callback returns: the wait below only tells that apart, however busy the machine.
      await waitFor(async () => (await activeSearches(admin)) === 0, 30_000);
    });
    // The connections the cancelled statements used serve the next request normally.
    for (let i = 0; i < 12; i++) expect((await fhirFetch(`${patient.url}/fhir/Patient?name=smith`, { token: patient.adminToken })).status).toBe(200);
  });
});

describe('STATEMENT_TIMEOUT bounds every statement of an API request', () => {
  it('answers a search that runs too long with 503 and an OperationOutcome', async () => {
    await withStringIndexLocked(hasty, async () => {
      // The lock is held until this callback returns: only the 500 ms timeout can end the statement.
      const res = await send(hasty, 'rest', AbortSignal.timeout(30_000));
      const body = (await res.json()) as any;
      expect(res.status).toBe(503);
      expect(body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] });
    });
  });

  it('gives GraphQL an error with extensions.code SERVICE_UNAVAILABLE', async () => {
    await withStringIndexLocked(hasty, async () => {
      const res = await send(hasty, 'graphql', AbortSignal.timeout(10_000));
      const body = (await res.json()) as any;
      expect(body.errors[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', outcome: { issue: [{ code: 'timeout' }] } });
    });
  });

  it('leaves statements outside API requests alone, on connections that requests used', async () => {
    // Every pooled connection has served a request (and so carries the request timeout)…
    await Promise.all(Array.from({ length: 12 }, () => fhirFetch(`${hasty.url}/fhir/Patient?name=x&_total=accurate`, { token: hasty.adminToken })));
    // …yet the server's own work (like a CLI command's) runs longer than it.
    const rows = await Promise.all(Array.from({ length: 4 }, () => hasty.server.service.db.query<{ ok: number }>('SELECT 1 AS ok FROM pg_sleep(0.8)')));
    expect(rows.flat()).toEqual([{ ok: 1 }, { ok: 1 }, { ok: 1 }, { ok: 1 }]);
  });
});

/**
 * A fresh server's first GraphQL documents (review #10: 250 copies of one search blocked a cold
 * server's event loop 275 ms, while the warm test harness measured only its best of three). This
 * file is the process's first GraphQL work, so graphql-js's validation code is as cold as on a
 * server that has just started: the server warms it before it listens.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;

/** Issue 14's bound on any event-loop block. */
const LOOP_MS = 200;

async function firstTime(query: string): Promise<{ res: FhirResponse; loopMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const res = await fhirFetch(`${t.url}/graphql`, { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } });
  histogram.disable();
  const loopMs = histogram.max / 1e6;
  console.info(`[cold] event loop ${loopMs.toFixed(1)} ms: ${query.slice(0, 60)}…`);
  return { res, loopMs };
}

beforeAll(async () => {
  t = await startTestServer();
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('a fresh server', () => {
  it('validates its first document of 100 copies of one search (the most the caps allow) without blocking the loop 200 ms', async () => {
    const field = 'PatientList(_count: 1, name: "cold", family: "f", given: "g") { id link { other { id } } }';
    const { res, loopMs } = await firstTime(`{ ${Array(100).fill(field).join(' ')} }`);
    expect(res.body.errors, res.text.slice(0, 300)).toBeUndefined();
    expect(loopMs).toBeLessThan(LOOP_MS);
  });

  it('refuses 250 copies of one search in one selection set before validation compares their pairs', async () => {
    const field = 'PatientList(_count: 1, name: "v", family: "f", given: "g") { id }';
    const { res, loopMs } = await firstTime(`{ ${Array(250).fill(field).join(' ')} }`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(res.body.errors[0].message).toMatch(/selects "PatientList" 250 times in one selection set .*the limit is 100/);
    expect(loopMs).toBeLessThan(LOOP_MS);
  });
});

/**
 * A fresh server's first GraphQL documents (review #10: 250 copies of one search blocked a cold
 * server's event loop 275 ms, while the warm test harness measured only its best of three). This
 * file is the process's first GraphQL work, so Apollo's pipeline and graphql-js's validation are
 * as cold as on a server that has just started: the server warms them before it listens.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;

/** Issue 14's bound on any event-loop block. */
const LOOP_MS = 200;

/**
 * Sends `query` and reports the longest event-loop block it saw. A block is the server's own only
 * if the process also spent that much CPU: on a machine shared with other test files the loop is
 * also "blocked" while the process waits for a core, so the block is the lesser of the two.
 */
async function firstTime(query: string): Promise<{ res: FhirResponse; loopMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const cpu = process.cpuUsage();
  const res = await fhirFetch(`${t.url}/graphql`, { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } });
  const used = process.cpuUsage(cpu);
  histogram.disable();
  const cpuMs = (used.user + used.system) / 1_000;
  const loopMs = Math.min(histogram.max / 1e6, cpuMs);
  console.info(`[cold] event loop ${(histogram.max / 1e6).toFixed(1)} ms, CPU ${cpuMs.toFixed(1)} ms: ${query.slice(0, 60)}…`);
  return { res, loopMs };
}

beforeAll(async () => {
  t = await startTestServer();
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('a fresh server', () => {
  it('validates its first document of 100 copies of one search (the most the caps allow) without blocking the loop 200 ms', async () => {
    // Skipped, so the search runs no SQL: what is measured is GraphQL's own first time (parsing,
    // validation, the plugins, execution), not the first database round trip.
    const field = 'PatientList(_count: 1, name: "cold", family: "f", given: "g") @skip(if: true) { id link { other { id } } }';
    const { res, loopMs } = await firstTime(`{ ${Array(100).fill(field).join(' ')} }`);
    expect(res.body.data, res.text.slice(0, 300)).toEqual({});
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

/**
 * Issue 14 item 5, "write amplification": a 4 MB Patient with 1,000,000 `given` names wrote
 * 3,000,000 index rows (402 MB, 1.3 GB RSS). Arrays are now capped (`RESOURCE_MAX_REPEATS`),
 * checked before validation so such a body is refused in milliseconds, and so are the index rows
 * a resource may produce (`RESOURCE_MAX_INDEX_ROWS`), counted while extracting so nested repeats
 * stop early: 422 with an OperationOutcome naming the element, nothing written, other clients
 * answered meanwhile.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { cpuMsOfAsync } from '../helpers/cpu-time.ts';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let readerId: string;
const { maxRepeats, maxIndexRows } = DEFAULT_LIMITS.resource;

beforeAll(async () => {
  t = await startTestServer();
  readerId = (await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Reader' }] } })).body.id;
});
afterAll(async () => { await t?.close(); });

const names = (count: number, given: number) => Array.from({ length: count }, (_, i) => ({ family: `F${i}`, given: Array.from({ length: given }, () => 'Ann') }));
const post = (path: string, body: string, headers: Record<string, string> = {}) => fhirFetch(`${t.url}${path}`, { method: 'POST', body, headers });

function expectTooCostly(res: FhirResponse, expression: string) {
  expect(res.status).toBe(422);
  expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'too-costly', expression: [expression] }] });
}

async function patientCount(): Promise<number> {
  return (await fhirFetch(`${t.url}/fhir/Patient?_summary=count`)).body.total;
}

describe('a resource with too many repetitions or index rows is refused with 422', () => {
  it('refuses a Patient with 150,000 given names in milliseconds, answering another client meanwhile (the 4 MB one of 1,000,000 is over MAX_RESOURCE_BODY: 413)', async () => {
    const huge = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'X', given: Array.from({ length: 1_000_000 }, () => 'Ann') }] });
    expect((await post('/fhir/Patient', huge)).status).toBe(413);
    const hostile = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'X', given: Array.from({ length: 150_000 }, () => 'Ann') }] });
    expect(hostile.length).toBeLessThan(t.config.maxResourceBodyBytes);
    const before = await patientCount();
    expectTooCostly(await post('/fhir/Patient', hostile), 'Patient.name[0].given');
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const cpuBefore = process.cpuUsage();
    const attacks = Promise.all(Array.from({ length: 3 }, () => post('/fhir/Patient', hostile)));
    const latencies: number[] = [];
    let done = false;
    void attacks.finally(() => { done = true; });
    while (!done || latencies.length < 5) {
      const t0 = performance.now();
      expect((await fhirFetch(`${t.url}/fhir/Patient/${readerId}`)).status).toBe(200);
      latencies.push(performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const answers = await attacks;
    const cpu = process.cpuUsage(cpuBefore);
    delay.disable();
    for (const res of answers) expectTooCostly(res, 'Patient.name[0].given');
    // The cost bound is in CPU time (this process runs the server too), so a busy machine does
    // not fail it; the bystander's bounds are issue 14's.
    expect((cpu.user + cpu.system) / 1_000, 'CPU ms for three refusals and the reads').toBeLessThan(5_000);
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    expect(delay.max / 1e6).toBeLessThan(200);
    expect(await patientCount()).toBe(before);
  });

  it('refuses nested repetitions that stay under the array cap but need too many index rows', async () => {
    const body = JSON.stringify({ resourceType: 'Patient', name: names(300, 300) });
    const { value: res, cpuMs } = await cpuMsOfAsync(() => post('/fhir/Patient', body));
    expectTooCostly(res, 'Patient');
    expect(cpuMs).toBeLessThan(3_000);
  });

  it('refuses a composite parameter whose combinations multiply', async () => {
    const codings = (n: number) => Array.from({ length: n }, (_, i) => ({ system: 'urn:x', code: `c${i}` }));
    const observation = { resourceType: 'Observation', status: 'final', code: { coding: codings(2_000) }, valueCodeableConcept: { coding: codings(2_000) } };
    const { value: res, cpuMs } = await cpuMsOfAsync(() => post('/fhir/Observation', JSON.stringify(observation)));
    expectTooCostly(res, 'Observation');
    expect(cpuMs).toBeLessThan(3_000);
  });

  it('refuses them in transactions, batches, updates and patches too', async () => {
    const entry = { resourceType: 'Patient', name: [{ given: Array.from({ length: maxRepeats + 1 }, () => 'Ann') }] };
    const bundle = (type: string) => JSON.stringify({ resourceType: 'Bundle', type, entry: [{ request: { method: 'POST', url: 'Patient' }, resource: entry }] });
    expectTooCostly(await post('/fhir', bundle('transaction')), 'Bundle.entry[0].resource.name[0].given');
    expectTooCostly(await post('/fhir', bundle('batch')), 'Bundle.entry[0].resource.name[0].given');
    const put = await fhirFetch(`${t.url}/fhir/Patient/${readerId}`, { method: 'PUT', body: { ...entry, id: readerId } });
    expectTooCostly(put, 'Patient.name[0].given');
    const patch = await fhirFetch(`${t.url}/fhir/Patient/${readerId}`, {
      method: 'PATCH', headers: { 'content-type': 'application/json-patch+json' },
      body: [{ op: 'add', path: '/name/0/given', value: entry.name[0].given }],
    });
    expectTooCostly(patch, 'JSON Patch[0].value');
    const viaPatch = await fhirFetch(`${t.url}/fhir/Patient/${readerId}`, {
      method: 'PATCH', headers: { 'content-type': 'application/json-patch+json' },
      body: [{ op: 'add', path: '/name', value: names(200, 50) }],
    });
    expectTooCostly(viaPatch, 'Patient');
    expect((await fhirFetch(`${t.url}/fhir/Patient/${readerId}`)).body.meta.versionId).toBe('1');
  });

  it('accepts generous resources below both limits', async () => {
    const res = await post('/fhir/Patient', JSON.stringify({ resourceType: 'Patient', name: names(3, Math.floor(maxIndexRows / 12)) }));
    expect(res.status).toBe(201);
  });
});

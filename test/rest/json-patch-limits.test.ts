/**
 * Issue 14, second review, item 2, "JSON Patch amplification": a small PATCH of `copy`
 * operations that copy an array into itself doubled the document with each operation (20
 * operations made a million items, 30 ran the server out of memory). A patch now has at most
 * `PATCH_MAX_OPERATIONS` operations and is applied one operation at a time, each charged the JSON
 * values it adds against `RESOURCE_MAX_ITEMS` before it runs; every write path (create, update,
 * transaction entries) meets the same item budget, a Bundle's entry resources each on their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
/** A server whose resources hold at most 1,000 JSON values, so the budget is cheap to reach. */
let small: TestServer;
const MAX_ITEMS = 1_000;

beforeAll(async () => {
  t = await startTestServer();
  small = await startTestServer({ limits: { ...DEFAULT_LIMITS, resource: { ...DEFAULT_LIMITS.resource, maxItems: MAX_ITEMS } } });
});
afterAll(async () => { await Promise.all([t?.close(), small?.close()]); });

const PATCH = { 'content-type': 'application/json-patch+json' };

async function createPatient(server: TestServer, body: Record<string, unknown> = {}): Promise<string> {
  const res = await fhirFetch(`${server.url}/fhir/Patient`, { method: 'POST', token: server.adminToken, body: { resourceType: 'Patient', name: [{ family: 'Doubled', given: ['a'] }], ...body } });
  expect(res.status, res.text.slice(0, 300)).toBe(201);
  return res.body.id;
}

function patch(server: TestServer, id: string, operations: unknown[]): Promise<FhirResponse> {
  return fhirFetch(`${server.url}/fhir/Patient/${id}`, { method: 'PATCH', token: server.adminToken, headers: PATCH, body: JSON.stringify(operations) });
}

function expectTooCostly(res: FhirResponse, diagnostics: string | RegExp) {
  expect(res.status, res.text.slice(0, 300)).toBe(422);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue[0].code).toBe('too-costly');
  expect(res.body.issue[0].diagnostics).toMatch(diagnostics);
}

/** A Patient whose extensions hold about `values` JSON values, each array well within RESOURCE_MAX_REPEATS. */
function extensions(values: number): unknown[] {
  return Array.from({ length: Math.ceil(values / 9) }, (_, i) => ({
    url: `http://example.org/e${i}`, extension: [{ url: 'a', valueString: 'x' }, { url: 'b', valueString: 'y' }],
  }));
}

describe('JSON Patch limits', () => {
  it('refuses 22 copies of an array into itself with 422 once the resource would pass RESOURCE_MAX_ITEMS, leaving it unchanged', async () => {
    const id = await createPatient(t);
    const doubling = Array.from({ length: 22 }, () => ({ op: 'copy', from: '/name', path: '/name/-' }));
    expectTooCostly(await patch(t, id, doubling), /JSON Patch operation 1\d \(copy\) would grow Patient\/.* beyond 100000 JSON values \(RESOURCE_MAX_ITEMS\)/);
    const read = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { token: t.adminToken });
    expect(read.body.meta.versionId).toBe('1');
    expect(read.body.name).toHaveLength(1);
  });

  it('refuses more operations than PATCH_MAX_OPERATIONS with 422', async () => {
    const id = await createPatient(t);
    const tests = Array.from({ length: DEFAULT_LIMITS.resource.maxPatchOperations + 1 }, () => ({ op: 'test', path: '/resourceType', value: 'Patient' }));
    expectTooCostly(await patch(t, id, tests), /1001 operations; at most 1000 are allowed \(PATCH_MAX_OPERATIONS\)/);
    expect((await patch(t, id, tests.slice(1))).status).toBe(200);
  });

  it('still applies copy, move, add, replace, remove and test, and refuses a copy from nowhere', async () => {
    const id = await createPatient(t, { birthDate: '1970-01-01' });
    const res = await patch(t, id, [
      { op: 'copy', from: '/name/0', path: '/name/-' },
      { op: 'replace', path: '/name/1/family', value: 'Copied' },
      { op: 'move', from: '/birthDate', path: '/deceasedDateTime' },
      { op: 'add', path: '/gender', value: 'other' },
      { op: 'remove', path: '/name/0/given' },
      { op: 'test', path: '/name/1/given/0', value: 'a' },
    ]);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(res.body.name).toEqual([{ family: 'Doubled' }, { family: 'Copied', given: ['a'] }]);
    expect(res.body.deceasedDateTime).toBe('1970-01-01');
    expect(res.body.birthDate).toBeUndefined();
    const nowhere = await patch(t, id, [{ op: 'copy', from: '/address/0', path: '/address' }]);
    expect(nowhere.status).toBe(422);
    expect(nowhere.body.issue[0].diagnostics).toMatch(/from a path that does not exist/);
  });
});

describe('RESOURCE_MAX_ITEMS on every write path', () => {
  it('refuses a create and an update over the budget with 422 naming the resource', async () => {
    expectTooCostly(await fhirFetch(`${small.url}/fhir/Patient`, {
      method: 'POST', token: small.adminToken, body: { resourceType: 'Patient', extension: extensions(MAX_ITEMS + 10) },
    }), /^Patient: more than 1000 JSON values in one resource \(RESOURCE_MAX_ITEMS\)$/);
    const id = await createPatient(small, { extension: extensions(MAX_ITEMS - 100) });
    expectTooCostly(await fhirFetch(`${small.url}/fhir/Patient/${id}`, {
      method: 'PUT', token: small.adminToken, body: { resourceType: 'Patient', id, extension: extensions(MAX_ITEMS + 10) },
    }), /RESOURCE_MAX_ITEMS/);
  });

  it('counts each entry resource of a transaction on its own, and names the entry over the budget', async () => {
    const entry = (values: number) => ({ request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient', extension: extensions(values) } });
    const fine = await fhirFetch(`${small.url}/fhir`, {
      method: 'POST', token: small.adminToken, body: { resourceType: 'Bundle', type: 'transaction', entry: [entry(MAX_ITEMS - 100), entry(MAX_ITEMS - 100)] },
    });
    expect(fine.status, fine.text.slice(0, 300)).toBe(200);
    const over = await fhirFetch(`${small.url}/fhir`, {
      method: 'POST', token: small.adminToken, body: { resourceType: 'Bundle', type: 'transaction', entry: [entry(10), entry(MAX_ITEMS + 10)] },
    });
    expectTooCostly(over, /^Bundle\.entry\[1\]\.resource: more than 1000 JSON values/);
    expect(over.body.issue[0].expression).toEqual(['Bundle.entry[1].resource']);
  });

  it('stores a collection Bundle whose entries are each within the budget though together they are not', async () => {
    const collection = {
      resourceType: 'Bundle', type: 'collection',
      entry: Array.from({ length: 3 }, (_, i) => ({ fullUrl: `urn:uuid:0000000${i}-0000-4000-8000-000000000000`, resource: { resourceType: 'Basic', code: { text: 'x' }, extension: extensions(MAX_ITEMS - 100) } })),
    };
    const res = await fhirFetch(`${small.url}/fhir/Bundle`, { method: 'POST', token: small.adminToken, body: collection });
    expect(res.status, res.text.slice(0, 300)).toBe(201);
  });

  it('charges a patch\'s added values against the budget of the server it runs on', async () => {
    const id = await createPatient(small, { extension: extensions(MAX_ITEMS - 200) });
    expectTooCostly(await patch(small, id, [{ op: 'copy', from: '/extension', path: '/modifierExtension' }]), /RESOURCE_MAX_ITEMS/);
  });
});

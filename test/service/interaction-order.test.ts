/**
 * Issue 15 (structure): every interaction opens the same way, so a client sees one order of
 * errors whatever it calls: an unknown resource type (404), then the caller's scope (403), then
 * the id's format (400), then the request's parameters, headers and body (400), then the stored
 * resource (404, 410). Before, each service method and REST route checked in its own order (a bad
 * id was a 400 before a refused scope on writes and a 403 on reads; a malformed history `_count`
 * was a 400 before a 404 type).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
/** May read, search and write Observations only. */
let token: string;
beforeAll(async () => {
  t = await startTestServer();
  token = await t.tokenWithScope('system/Observation.cruds');
});
afterAll(async () => { await t?.close(); });

const BAD_ID = 'bad$id';
const BROKEN_JSON = '{"resourceType":';

async function statusOf(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<[number, string]> {
  const res = await fhirFetch(`${t.url}${path}`, { method, body: init.body, headers: init.headers, token });
  expect(res.body?.resourceType).toBe('OperationOutcome');
  return [res.status, res.body.issue[0].diagnostics];
}

describe('one order of errors for every interaction: type 404, scope 403, id 400, then the rest', () => {
  const cases: { name: string; method: string; path: (type: string, id: string) => string; body?: string; headers?: Record<string, string> }[] = [
    { name: 'read', method: 'GET', path: (type, id) => `/fhir/${type}/${id}?_summary=nonsense` },
    { name: 'vread', method: 'GET', path: (type, id) => `/fhir/${type}/${id}/_history/1?_elements=${'x,'.repeat(500)}` },
    { name: 'update', method: 'PUT', path: (type, id) => `/fhir/${type}/${id}`, body: BROKEN_JSON, headers: { 'if-match': 'banana' } },
    { name: 'patch', method: 'PATCH', path: (type, id) => `/fhir/${type}/${id}`, body: BROKEN_JSON, headers: { 'content-type': 'application/json-patch+json', 'if-match': 'banana' } },
    { name: 'delete', method: 'DELETE', path: (type, id) => `/fhir/${type}/${id}`, headers: { 'if-match': 'banana' } },
    { name: 'instance history', method: 'GET', path: (type, id) => `/fhir/${type}/${id}/_history?_count=abc` },
    { name: 'instance $validate', method: 'POST', path: (type, id) => `/fhir/${type}/${id}/$validate`, body: BROKEN_JSON },
    { name: 'compartment search', method: 'GET', path: (type, id) => `/fhir/${type}/${id}/Observation?_count=abc` },
  ];
  for (const c of cases) {
    it(`${c.name}: 404 for an unknown type before anything else`, async () => {
      const [status] = await statusOf(c.method, c.path('Unicorn', BAD_ID), c);
      expect(status).toBe(404);
    });
    if (c.name !== 'compartment search') {
      it(`${c.name}: 403 for a type the scope does not allow, before the id is looked at`, async () => {
        const [status] = await statusOf(c.method, c.path('Patient', BAD_ID), c);
        expect(status).toBe(403);
      });
    }
    it(`${c.name}: 400 naming the id before parameters, headers and body`, async () => {
      const type = c.name === 'compartment search' ? 'Patient' : 'Observation';
      const [status, diagnostics] = await statusOf(c.method, c.path(type, BAD_ID), c);
      expect(status).toBe(400);
      expect(diagnostics).toContain(BAD_ID);
    });
  }

  it('compartment search: 403 when the scope does not allow searching the compartment\'s members', async () => {
    const [status] = await statusOf('GET', `/fhir/Patient/${BAD_ID}/Condition?_count=abc`);
    expect(status).toBe(403);
  });

  const typeCases: { name: string; method: string; path: (type: string) => string; body?: string; headers?: Record<string, string> }[] = [
    { name: 'create', method: 'POST', path: (type) => `/fhir/${type}`, body: BROKEN_JSON },
    { name: 'conditional update', method: 'PUT', path: (type) => `/fhir/${type}?identifier=x`, body: BROKEN_JSON, headers: { 'if-match': 'banana' } },
    { name: 'conditional delete', method: 'DELETE', path: (type) => `/fhir/${type}?unknown-param=x` },
    { name: 'search', method: 'GET', path: (type) => `/fhir/${type}?_count=abc`, headers: { prefer: 'handling=strict' } },
    { name: 'type history', method: 'GET', path: (type) => `/fhir/${type}/_history?_count=abc` },
    { name: 'type $validate', method: 'POST', path: (type) => `/fhir/${type}/$validate`, body: BROKEN_JSON },
  ];
  for (const c of typeCases) {
    it(`${c.name}: 404 for an unknown type, then 403 for the scope, then 400 for the request`, async () => {
      expect((await statusOf(c.method, c.path('Unicorn'), c))[0]).toBe(404);
      expect((await statusOf(c.method, c.path('Patient'), c))[0]).toBe(403);
      expect((await statusOf(c.method, c.path('Observation'), c))[0]).toBe(400);
    });
  }

  it('finds the stored resource last: 404 for an unknown id only once the request is well-formed', async () => {
    expect((await statusOf('GET', '/fhir/Observation/missing?_summary=nonsense'))[0]).toBe(400);
    expect((await statusOf('GET', '/fhir/Observation/missing'))[0]).toBe(404);
  });
});

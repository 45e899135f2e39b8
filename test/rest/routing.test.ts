/**
 * Issue 15 (REST): how the facade routes what third-party clients send. fhir-kit-client's
 * `transaction()`/`batch()` and fhirclient post to `/fhir/` (trailing slash), which answered 404;
 * `$operations` the server does not serve answered `Invalid id "$export"` or `Unknown resource type
 * "$everything"`; a broken percent-encoding in the query string was searched for as garbage; and a
 * `PUT /fhir/Patient` with `{}` answered `resourceType "undefined"`.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

function expectOutcome(res: FhirResponse, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code }] });
}

const transaction = (family: string) => ({
  resourceType: 'Bundle', type: 'transaction',
  entry: [{ fullUrl: 'urn:uuid:5c1e7a34-9f0e-4e53-9a57-1f6d2b9b1c01', resource: { resourceType: 'Patient', name: [{ family }] }, request: { method: 'POST', url: 'Patient' } }],
});

describe('a trailing slash acts as the same path without it', () => {
  it('runs a transaction posted to /fhir/ (fhir-kit-client, fhirclient)', async () => {
    const res = await fhirFetch(`${t.url}/fhir/`, { method: 'POST', body: transaction('Slash') });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry[0].response.status).toBe('201 Created');
  });

  it('runs a batch posted to /fhir/', async () => {
    const res = await fhirFetch(`${t.url}/fhir/`, { method: 'POST', body: { ...transaction('Batch'), type: 'batch' } });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
  });

  it('creates at /fhir/Patient/, searches at /fhir/Patient/?…, reads at /fhir/Patient/{id}/', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient/`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Trailing' }] } });
    expect(created.status).toBe(201);
    const found = await fhirFetch(`${t.url}/fhir/Patient/?family=Trailing`);
    expect(found.status).toBe(200);
    expect(found.body.entry.map((e: any) => e.resource.id)).toEqual([created.body.id]);
    const read = await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}/`);
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(created.body.id);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}/_history/`)).body.type).toBe('history');
  });

  it('serves /fhir/metadata/ without a token, like /fhir/metadata', async () => {
    const res = await fhirFetch(`${t.url}/fhir/metadata/`, { token: null });
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CapabilityStatement');
  });
});

describe('an $operation the server does not serve answers 501 not-supported naming it', () => {
  const cases: [string, string, string][] = [
    ['GET', '/fhir/$convert', '$convert'],
    ['POST', '/fhir/$convert', '$convert'],
    ['GET', '/fhir/$meta', '$meta'],
    ['GET', '/fhir/Observation/$lastn', '$lastn'],
    ['POST', '/fhir/Patient/$match', '$match'],
    ['GET', '/fhir/Patient/1/$summary', '$summary'],
    ['POST', '/fhir/Patient/1/$summary', '$summary'],
    ['DELETE', '/fhir/Patient/1/$meta-delete', '$meta-delete'],
    ['GET', '/fhir/Patient/1/_history/1/$meta', '$meta'],
    ['GET', '/fhir/$convert/', '$convert'],
  ];
  for (const [method, path, name] of cases) {
    it(`${method} ${path}`, async () => {
      const body = method === 'GET' || method === 'DELETE' ? undefined : { resourceType: 'Parameters' };
      const res = await fhirFetch(`${t.url}${path}`, { method, body });
      expectOutcome(res, 501, 'not-supported');
      expect(res.body.issue[0].diagnostics).toContain(name);
      expect(res.text).not.toMatch(/Invalid id|Unknown resource type/);
    });
  }

  it('answers 404 for an operation on a type that does not exist', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Unicorn/$everything`);
    expectOutcome(res, 404, 'not-found');
  });

  it('still serves $validate at type and instance level', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/$validate`, { method: 'POST', body: { resourceType: 'Patient' } });
    expect(res.status).toBe(200);
    expect(res.body.issue[0].severity).toBe('information');
  });

  it('still answers 405 for a served operation called with a method it does not take', async () => {
    expectOutcome(await fhirFetch(`${t.url}/fhir/Patient/$validate`), 405, 'not-supported');
  });
});

describe('a broken percent-encoding in the query string is refused before the search runs', () => {
  for (const query of ['name=%ZZ', 'name=%E0%A4%A', 'na%me=x', 'name=%FF']) {
    it(`answers 400 for ?${query}`, async () => {
      const res = await fhirFetch(`${t.url}/fhir/Patient?${query}`);
      expectOutcome(res, 400, 'invalid');
      expect(res.body.issue[0].diagnostics).toMatch(/percent-encod/);
    });
  }

  it('checks a request target in absolute form (GET http://host/fhir/…) the same way', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(t.url).port), '127.0.0.1', () => {
        socket.write(`GET http://example.org/fhir/Patient?name=%ZZ HTTP/1.1\r\nHost: example.org\r\nAuthorization: Bearer ${t.adminToken}\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (chunk) => { text += chunk.toString(); });
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('"resourceType":"OperationOutcome"');
  });

  it('keeps serving well-encoded values (UTF-8, +, %25)', async () => {
    for (const query of ['name=M%C3%BCller', 'name=a+b', 'name=100%25']) {
      expect((await fhirFetch(`${t.url}/fhir/Patient?${query}`)).status).toBe(200);
    }
  });
});

describe('a PUT to the type URL says what is missing', () => {
  it('asks for search criteria when PUT /fhir/Patient has none', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'PUT', body: {} });
    expectOutcome(res, 400, 'invalid');
    expect(res.body.issue[0].diagnostics).not.toContain('undefined');
    expect(res.body.issue[0].diagnostics).toMatch(/criteria|\/fhir\/Patient\/\{id\}/);
  });

  it('names the missing resourceType when the body has none', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient?identifier=x`, { method: 'PUT', body: {} });
    expectOutcome(res, 400, 'invalid');
    expect(res.body.issue[0].diagnostics).not.toContain('undefined');
    expect(res.body.issue[0].diagnostics).toMatch(/resourceType/);
    const put = await fhirFetch(`${t.url}/fhir/Patient/p1`, { method: 'PUT', body: { id: 'p1' } });
    expectOutcome(put, 400, 'invalid');
    expect(put.body.issue[0].diagnostics).not.toContain('undefined');
  });
});

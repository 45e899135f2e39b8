/**
 * Issue 14, second review, item 3: every body could be 32 MiB and was parsed and validated in one
 * go. Now a Bundle (a batch or transaction posted to the base, or a `Bundle` resource) may take
 * `MAX_BODY` and is read, checked and validated entry by entry, while every other body takes
 * `MAX_RESOURCE_BODY` (413 beyond it, before the body is read when it declares its length).
 * Here with small limits: resources 64 KiB, Bundles 1 MiB.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const RESOURCE = 64 * 1024;
const BUNDLE = 1024 * 1024;

beforeAll(async () => { t = await startTestServer({ maxResourceBodyBytes: RESOURCE, maxBodyBytes: BUNDLE }); });
afterAll(async () => { await t?.close(); });

/** A Patient of about `bytes` bytes of JSON, valid and cheap to index. */
function patient(bytes: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const extension = (i: number) => ({ url: `http://example.org/${String(i).padStart(6, '0')}`, valueString: 'x'.repeat(20) });
  const each = JSON.stringify(extension(0)).length + 1;
  return { resourceType: 'Patient', ...extra, extension: Array.from({ length: Math.floor((bytes - 100) / each) }, (_, i) => extension(i)) };
}

function send(method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<FhirResponse> {
  return fhirFetch(`${t.url}${path}`, { method, body: typeof body === 'string' ? body : JSON.stringify(body), headers });
}

/** Sends `body` chunked, without Content-Length: the limit is counted as it arrives. */
function sendChunked(path: string, body: string): Promise<{ status: number; body: any }> {
  const target = new URL(`${t.url}${path}`);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${t.adminToken}`, 'transfer-encoding': 'chunked' },
    }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.slice(at, at + 16 * 1024));
    req.end();
  });
}

function expectTooLarge(res: { status: number; body: any }) {
  expect(res.status).toBe(413);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue[0].code).toBe('too-costly');
}

describe('body limits by route', () => {
  it('refuses a resource body over MAX_RESOURCE_BODY with 413 on create, update, conditional update, patch and $validate', async () => {
    const big = patient(RESOURCE + 1024);
    expectTooLarge(await send('POST', '/fhir/Patient', big));
    expectTooLarge(await send('PUT', '/fhir/Patient/big', { ...big, id: 'big' }));
    expectTooLarge(await send('PUT', '/fhir/Patient?identifier=x', big));
    expectTooLarge(await send('POST', '/fhir/Patient/$validate', big));
    expectTooLarge(await send('PATCH', '/fhir/Patient/big', [{ op: 'add', path: '/extension', value: big.extension }], { 'content-type': 'application/json-patch+json' }));
    expect((await send('POST', '/fhir/Patient', patient(RESOURCE - 2048))).status).toBe(201);
  });

  it('counts a chunked resource body as it arrives', async () => {
    expectTooLarge(await sendChunked('/fhir/Patient', JSON.stringify(patient(RESOURCE + 1024))));
    expect((await sendChunked('/fhir/Patient', JSON.stringify(patient(RESOURCE - 2048)))).status).toBe(201);
  });

  it('refuses a GraphQL request over MAX_RESOURCE_BODY with 413', async () => {
    const res = await send('POST', '/graphql', { query: '{ PatientList { id } }', variables: { pad: 'x'.repeat(RESOURCE) } }, { 'content-type': 'application/json' });
    expect(res.status).toBe(413);
  });

  it('takes a transaction and a Bundle resource up to MAX_BODY, read entry by entry', async () => {
    const entries = Array.from({ length: 8 }, (_, i) => ({ fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000000${i}`, resource: patient(RESOURCE / 2, { id: undefined }), request: { method: 'POST', url: 'Patient' } }));
    const transaction = { resourceType: 'Bundle', type: 'transaction', entry: entries };
    expect(JSON.stringify(transaction).length).toBeGreaterThan(3 * RESOURCE);
    const stored = await send('POST', '/fhir', transaction);
    expect(stored.status, stored.text.slice(0, 300)).toBe(200);
    expect(stored.body.entry.map((e: any) => e.response.status)).toEqual(entries.map(() => '201 Created'));
    const collection = { resourceType: 'Bundle', type: 'collection', entry: entries.map(({ fullUrl, resource }) => ({ fullUrl, resource })) };
    const created = await send('POST', '/fhir/Bundle', collection);
    expect(created.status, created.text.slice(0, 300)).toBe(201);
    const read = await fhirFetch(`${t.url}/fhir/Bundle/${created.body.id}`);
    expect(read.body.entry).toHaveLength(8);
    expect(read.body.entry[7].resource.extension[0]).toEqual((entries[7].resource.extension as unknown[])[0]);
    expectTooLarge(await send('POST', '/fhir', { ...transaction, entry: [...entries, ...entries, ...entries, ...entries] }));
  });

  it('answers a malformed or oversized Bundle as before: 400 for broken JSON, 422 for an array over RESOURCE_MAX_REPEATS in an entry', async () => {
    const broken = await send('POST', '/fhir', '{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/1"}},]}');
    expect(broken.status).toBe(400);
    expect(broken.body.issue[0].diagnostics).toMatch(/not valid JSON/);
    const long = await send('POST', '/fhir', {
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient' } }, { request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient', name: [{ given: Array(t.config.limits.resource.maxRepeats + 1).fill('a') }] } }],
    });
    expect(long.status).toBe(422);
    expect(long.body.issue[0].expression).toEqual(['Bundle.entry[1].resource.name[0].given']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer({ maxBodyBytes: 256 * 1024 }); });
afterAll(async () => { await t?.close(); });

/** Every bad request must get a 4xx OperationOutcome, and the server must still answer afterwards. */
async function expectRefused(res: FhirResponse, status: number) {
  expect(res.status).toBe(status);
  expect(res.body?.resourceType).toBe('OperationOutcome');
  expect(res.body.issue.length).toBeGreaterThan(0);
  expect((await fhirFetch(`${t.url}/healthz`)).status).toBe(200);
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fhirFetch(`${t.url}${path}`, { method: 'POST', body, headers });

describe('bad input gets a 4xx OperationOutcome, never a 500', () => {
  it('answers 400 for broken JSON', async () => {
    await expectRefused(await post('/fhir/Patient', '{"resourceType":"Patient",'), 400);
    await expectRefused(await post('/fhir/Patient', 'not json at all'), 400);
    await expectRefused(await post('/fhir', '{"resourceType":'), 400);
  });

  it('answers 400 for an empty body', async () => {
    await expectRefused(await post('/fhir/Patient', ''), 400);
  });

  it('answers 400 when the body is not an object', async () => {
    await expectRefused(await post('/fhir/Patient', '[1,2,3]'), 400);
    await expectRefused(await post('/fhir/Patient', '"Patient"'), 400);
    await expectRefused(await post('/fhir/Patient', 'null'), 400);
  });

  it('answers 422 naming the element for wrong JSON types', async () => {
    const res = await post('/fhir/Patient', { resourceType: 'Patient', active: 'yes', name: { family: 'x' } });
    await expectRefused(res, 422);
    const expressions = res.body.issue.flatMap((i: any) => i.expression ?? []);
    expect(expressions).toEqual(expect.arrayContaining(['Patient.active']));
    expect(expressions.some((e: string) => e.startsWith('Patient.name'))).toBe(true);
  });

  it('answers 422 for unknown elements and bad primitive formats, listing every issue', async () => {
    const res = await post('/fhir/Patient', { resourceType: 'Patient', birthDate: '1970-13-45', favouriteColour: 'blue' });
    await expectRefused(res, 422);
    const expressions = res.body.issue.flatMap((i: any) => i.expression ?? []);
    expect(expressions).toEqual(expect.arrayContaining(['Patient.birthDate', 'Patient.favouriteColour']));
  });

  it('answers 404 for unknown resource types in the URL and 400 for one in a body', async () => {
    await expectRefused(await post('/fhir/Unicorn', { resourceType: 'Unicorn' }), 404);
    await expectRefused(await fhirFetch(`${t.url}/fhir/patient/1`), 404);
    await expectRefused(await post('/fhir/Patient', { resourceType: 'Unicorn' }), 400);
  });

  it('answers 413 for a body over the configured size limit', async () => {
    const huge = { resourceType: 'Patient', text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(300 * 1024)}</div>` } };
    await expectRefused(await post('/fhir/Patient', huge), 413);
  });

  it('answers 400 for ids with illegal characters', async () => {
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/bad$id`), 400);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/${'a'.repeat(65)}`), 400);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/a_b`, { method: 'PUT', body: { resourceType: 'Patient', id: 'a_b' } }), 400);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/%27%20OR%201=1`), 400);
  });

  it('answers 415 for wrong content types', async () => {
    await expectRefused(await post('/fhir/Patient', '<Patient xmlns="http://hl7.org/fhir"/>', { 'content-type': 'application/fhir+xml' }), 415);
    await expectRefused(await post('/fhir/Patient', 'resourceType=Patient', { 'content-type': 'text/plain' }), 415);
    await expectRefused(await post('/fhir/Patient', { resourceType: 'Patient' }, { 'content-type': 'application/json-patch+json' }), 415);
    const created = await post('/fhir/Patient', { resourceType: 'Patient' });
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}`, { method: 'PATCH', body: [] }), 415);
  });

  it('answers 404 for unknown version ids', async () => {
    const created = await post('/fhir/Patient', { resourceType: 'Patient' });
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}/_history/2`), 404);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}/_history/0`), 404);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}/_history/99999999999999999999`), 404);
  });

  it('answers 400 for a body of another type or id than the URL', async () => {
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/x1`, { method: 'PUT', body: { resourceType: 'Observation', id: 'x1' } }), 400);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/x1`, { method: 'PUT', body: { resourceType: 'Patient', id: 'x2' } }), 400);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/x1`, { method: 'PUT', body: { resourceType: 'Patient' } }), 400);
    await expectRefused(await post('/fhir/Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }), 400);
  });

  it('answers 4xx for deeply nested JSON', async () => {
    const deep = `{"resourceType":"Patient","extension":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await post('/fhir/Patient', deep);
    expect([400, 422]).toContain(res.status);
    await expectRefused(res, res.status);
    const nested = { resourceType: 'Patient', extension: [] as any[] };
    let cursor: any = nested;
    for (let i = 0; i < 500; i++) {
      const ext = { url: 'http://x', extension: [] as any[] };
      (cursor.extension as any[]).push(ext);
      cursor = ext;
    }
    const res2 = await post('/fhir/Patient', nested);
    expect(res2.status).toBe(422);
    await expectRefused(res2, 422);
    const veryDeep = '{"a":'.repeat(200_000) + '1' + '}'.repeat(200_000);
    const res3 = await post('/fhir/Patient', veryDeep);
    expect([400, 413, 422]).toContain(res3.status);
  });

  it('keeps SQL metacharacters as data', async () => {
    const family = `Robert'); DROP TABLE resource;--`;
    const created = await post('/fhir/Patient', { resourceType: 'Patient', name: [{ family }] });
    expect(created.status).toBe(201);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}`)).body.name[0].family).toBe(family);
  });

  it('answers 405 for a method a path does not serve', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'PATCH', body: [], headers: { 'content-type': 'application/json-patch+json' } });
    await expectRefused(res, 405);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient`, { method: 'DELETE' }), 400);
    await expectRefused(await fhirFetch(`${t.url}/fhir/metadata`, { method: 'POST', body: {} }), 405);
  });

  it('answers 406 for an Accept it cannot serve', async () => {
    await expectRefused(await fhirFetch(`${t.url}/fhir/metadata`, { headers: { accept: 'text/html' } }), 406);
  });

  it('answers 400 for a malformed If-Match and a malformed _count', async () => {
    const created = await post('/fhir/Patient', { resourceType: 'Patient' });
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}`, { method: 'PUT', body: { resourceType: 'Patient', id: created.body.id }, headers: { 'if-match': 'banana' } }), 400);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/_history?_count=abc`), 400);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/_history?_since=yesterday`), 400);
    await expectRefused(await fhirFetch(`${t.url}/fhir/Patient/_history?_cursor=zzz`), 400);
  });

  it('refuses narrative with scripts', async () => {
    const res = await post('/fhir/Patient', { resourceType: 'Patient', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>' } });
    await expectRefused(res, 422);
  });

  it('refuses malformed transaction entries with 400 naming the entry', async () => {
    const res = await post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Patient' } }, { resource: { resourceType: 'Patient' }, request: { method: 'FROB', url: 'Patient' } }] });
    await expectRefused(res, 400);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[0]');
    await expectRefused(await post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: 'nope' }), 400);
    await expectRefused(await post('/fhir', { resourceType: 'Patient' }), 400);
  });

  it('answers 404 with an OperationOutcome for paths outside the API', async () => {
    await expectRefused(await fhirFetch(`${t.url}/nothing/here`), 404);
  });
});

/**
 * Issue 15 (REST): read and vread ignored `_elements` and `_summary` (search applied them), and
 * answered 200 with the whole body to `If-None-Match` and `If-Modified-Since`, so mobile clients
 * could not revalidate their caches.
 * https://hl7.org/fhir/R4/search.html#summary  https://hl7.org/fhir/R4/http.html#cread
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let id: string;
let lastModified: string;
beforeAll(async () => {
  t = await startTestServer();
  const created = await fhirFetch(`${t.url}/fhir/Patient`, {
    method: 'POST',
    body: {
      resourceType: 'Patient', name: [{ family: 'Shape' }], gender: 'female', birthDate: '1980-02-03',
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Shape</div>' },
      maritalStatus: { text: 'single' },
    },
  });
  id = created.body.id;
  const v2 = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { method: 'PUT', body: { ...created.body, gender: 'other' } });
  expect(v2.status).toBe(200);
  lastModified = v2.headers.get('last-modified')!;
});
afterAll(async () => { await t?.close(); });

const subsetted = (body: any) => (body.meta.tag ?? []).some((tag: any) => tag.code === 'SUBSETTED');

describe('_elements and _summary on read and vread', () => {
  it('read with _elements returns only those elements (and id, meta) tagged SUBSETTED', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/${id}?_elements=gender,birthDate`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['birthDate', 'gender', 'id', 'meta', 'resourceType']);
    expect(res.body.gender).toBe('other');
    expect(subsetted(res.body)).toBe(true);
    expect(res.headers.get('etag')).toBe('W/"2"');
  });

  it('vread with _summary=true keeps the summary elements only', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/${id}/_history/1?_summary=true`);
    expect(res.status).toBe(200);
    expect(res.body.gender).toBe('female');
    expect(res.body.name).toEqual([{ family: 'Shape' }]);
    expect(res.body.text).toBeUndefined();
    expect(res.body.maritalStatus).toBeUndefined();
    expect(subsetted(res.body)).toBe(true);
  });

  it('read with _summary=text and _summary=data', async () => {
    const text = await fhirFetch(`${t.url}/fhir/Patient/${id}?_summary=text`);
    expect(text.body.text.div).toContain('Shape');
    expect(text.body.gender).toBeUndefined();
    const data = await fhirFetch(`${t.url}/fhir/Patient/${id}?_summary=data`);
    expect(data.body.text).toBeUndefined();
    expect(data.body.gender).toBe('other');
    expect(subsetted(data.body)).toBe(true);
  });

  it('read with _summary=false returns the whole resource, untagged', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/${id}?_summary=false`);
    expect(res.body.maritalStatus).toEqual({ text: 'single' });
    expect(subsetted(res.body)).toBe(false);
  });

  it('refuses a _summary a read cannot take with 400', async () => {
    for (const query of ['_summary=count', '_summary=maybe']) {
      const res = await fhirFetch(`${t.url}/fhir/Patient/${id}?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });
});

describe('conditional read', () => {
  it('answers 304 without a body when If-None-Match names the current version', async () => {
    for (const etag of ['W/"2"', '"2"', 'W/"1", W/"2"', '*']) {
      const res = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { headers: { 'if-none-match': etag } });
      expect(res.status).toBe(304);
      expect(res.text).toBe('');
      expect(res.headers.get('etag')).toBe('W/"2"');
    }
  });

  it('answers 200 when If-None-Match names another version', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { headers: { 'if-none-match': 'W/"1"' } });
    expect(res.status).toBe(200);
    expect(res.body.meta.versionId).toBe('2');
  });

  it('answers 304 when If-Modified-Since is at or after Last-Modified, 200 when before', async () => {
    const same = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { headers: { 'if-modified-since': lastModified } });
    expect(same.status).toBe(304);
    expect(same.text).toBe('');
    const later = new Date(Date.parse(lastModified) + 60_000).toUTCString();
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}`, { headers: { 'if-modified-since': later } })).status).toBe(304);
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    const changed = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { headers: { 'if-modified-since': earlier } });
    expect(changed.status).toBe(200);
    expect(changed.body.id).toBe(id);
  });

  it('lets If-None-Match win over If-Modified-Since (RFC 9110)', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { headers: { 'if-none-match': 'W/"1"', 'if-modified-since': lastModified } });
    expect(res.status).toBe(200);
  });

  it('ignores an If-Modified-Since that is not a date', async () => {
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}`, { headers: { 'if-modified-since': 'yesterday' } })).status).toBe(200);
  });

  it('answers 304 to a vread of the version If-None-Match names', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/${id}/_history/1`, { headers: { 'if-none-match': 'W/"1"' } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}/_history/1`, { headers: { 'if-none-match': 'W/"2"' } })).status).toBe(200);
  });

  it('still answers 404 and 410 before any 304', async () => {
    expect((await fhirFetch(`${t.url}/fhir/Patient/nobody`, { headers: { 'if-none-match': '*' } })).status).toBe(404);
    const doomed = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
    await fhirFetch(`${t.url}/fhir/Patient/${doomed.body.id}`, { method: 'DELETE' });
    expect((await fhirFetch(`${t.url}/fhir/Patient/${doomed.body.id}`, { headers: { 'if-none-match': 'W/"1"' } })).status).toBe(410);
  });
});

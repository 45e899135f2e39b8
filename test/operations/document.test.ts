/**
 * `Composition/{id}/$document` against a real server: a `document` Bundle with the Composition
 * first and every resource it refers to, recursively, each once; `persist=true` stores it as a
 * Bundle readable afterwards; a referenced type the token may not read, a missing reference and
 * an oversized document are refused; bad parameters 400, unknown Composition 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;

const put = async (resource: Record<string, unknown>) => {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}/${resource.id}`, { method: 'PUT', body: resource });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body;
};

const composition = (id: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Composition', id, status: 'final', type: { text: 'Discharge summary' }, date: '2024-05-01T10:00:00Z', title: 'Discharge',
  subject: { reference: 'Patient/pat' },
  author: [{ reference: 'Practitioner/doc' }],
  custodian: { reference: `${t.fhirBase}/Organization/hosp` },
  section: [
    { title: 'Findings', entry: [{ reference: 'Observation/obs1' }, { reference: 'Observation/obs2' }] },
    { title: 'Medications', entry: [{ reference: 'MedicationStatement/ms1' }], section: [{ title: 'Nested', entry: [{ reference: 'Observation/obs1' }] }] },
  ],
  ...extra,
});

beforeAll(async () => {
  t = await startTestServer({ document: { maxResources: 20 } });
  await put({ resourceType: 'Organization', id: 'parent-org', name: 'Health system' });
  await put({ resourceType: 'Organization', id: 'hosp', name: 'Hospital', partOf: { reference: 'Organization/parent-org' } });
  await put({ resourceType: 'Practitioner', id: 'doc', name: [{ family: 'Author' }] });
  await put({ resourceType: 'Patient', id: 'pat', managingOrganization: { reference: 'Organization/hosp' } });
  await put({ resourceType: 'Medication', id: 'med', code: { text: 'aspirin' } });
  await put({ resourceType: 'Observation', id: 'obs1', status: 'final', code: { text: 'one' }, subject: { reference: 'Patient/pat' }, performer: [{ reference: 'Practitioner/doc' }] });
  await put({ resourceType: 'Observation', id: 'obs2', status: 'final', code: { text: 'two' }, subject: { reference: 'Patient/pat' } });
  await put({ resourceType: 'MedicationStatement', id: 'ms1', status: 'active', subject: { reference: 'Patient/pat' }, medicationReference: { reference: 'Medication/med' } });
  await put({ resourceType: 'Patient', id: 'unrelated' });
  await put(composition('comp'));
});
afterAll(async () => { await t?.close(); });

const keys = (bundle: any) => bundle.entry.map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);

describe('Composition/{id}/$document', () => {
  it('answers a document Bundle: the Composition first, then everything it refers to, recursively, once each', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Composition/comp/$document`);
    expect(res.status, res.text).toBe(200);
    const bundle = res.body;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'document' });
    expect(bundle.identifier.system).toBe('urn:ietf:rfc:3986');
    expect(bundle.identifier.value).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(bundle.timestamp))).toBe(false);
    // Breadth first, in the order the references appear: the Composition's own, then theirs.
    expect(keys(bundle)).toEqual([
      'Composition/comp',
      'Patient/pat', 'Practitioner/doc', 'Organization/hosp', 'Observation/obs1', 'Observation/obs2', 'MedicationStatement/ms1',
      'Organization/parent-org', 'Medication/med',
    ]);
    for (const entry of bundle.entry) expect(entry.fullUrl).toBe(`${t.fhirBase}/${entry.resource.resourceType}/${entry.resource.id}`);
    expect(res.text).not.toContain('"unrelated"');
    const second = await fhirFetch(`${t.url}/fhir/Composition/comp/$document`, { method: 'POST' });
    expect(second.status).toBe(200);
    expect(second.body.identifier.value).not.toBe(bundle.identifier.value);
  });

  it('stores the document with persist=true (POST) and answers 201 with its Location', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Composition/comp/$document`, {
      method: 'POST', body: { resourceType: 'Parameters', parameter: [{ name: 'persist', valueBoolean: true }] },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.resourceType).toBe('Bundle');
    expect(res.headers.get('location')).toBe(`${t.fhirBase}/Bundle/${res.body.id}/_history/1`);
    const stored = await fhirFetch(`${t.url}/fhir/Bundle/${res.body.id}`);
    expect(stored.status).toBe(200);
    expect(stored.body.type).toBe('document');
    expect(keys(stored.body)[0]).toBe('Composition/comp');
    expect(keys(stored.body).length).toBe(9);
    const query = await fhirFetch(`${t.url}/fhir/Composition/comp/$document?persist=true`, { method: 'POST' });
    expect(query.status).toBe(201);
    // A GET changes nothing.
    const get = await fhirFetch(`${t.url}/fhir/Composition/comp/$document?persist=true`);
    expect(get.status).toBe(400);
    expect(get.body.issue[0].diagnostics).toContain('POST');
  });

  it('needs create permission on Bundle to persist, read on every type the document holds', async () => {
    const reader = await t.tokenWithScope('system/*.read');
    expect((await fhirFetch(`${t.url}/fhir/Composition/comp/$document`, { token: reader })).status).toBe(200);
    const noCreate = await fhirFetch(`${t.url}/fhir/Composition/comp/$document?persist=true`, { method: 'POST', token: reader });
    expect(noCreate.status).toBe(403);
    const noMedication = await t.tokenWithScope(['Composition', 'Patient', 'Practitioner', 'Organization', 'Observation', 'MedicationStatement'].map((type) => `system/${type}.read`).join(' '));
    const partial = await fhirFetch(`${t.url}/fhir/Composition/comp/$document`, { token: noMedication });
    expect(partial.status).toBe(403);
    expect(partial.body.issue[0].diagnostics).toContain('Medication');
    const noComposition = await t.tokenWithScope('system/Patient.read');
    expect((await fhirFetch(`${t.url}/fhir/Composition/comp/$document`, { token: noComposition })).status).toBe(403);
  });

  it('refuses a document with a reference to a missing resource (422 naming it); contained and external references are left alone', async () => {
    await put(composition('dangling', { encounter: { reference: 'Encounter/nowhere' } }));
    const res = await fhirFetch(`${t.url}/fhir/Composition/dangling/$document`);
    expect(res.status).toBe(422);
    expect(res.body.issue[0].diagnostics).toContain('Encounter/nowhere');
    await put(composition('outside', {
      contained: [{ resourceType: 'Practitioner', id: 'c1', name: [{ family: 'Contained' }] }],
      attester: [{ mode: 'legal', party: { reference: '#c1' } }],
      relatesTo: [{ code: 'appends', targetReference: { reference: 'https://elsewhere.example.org/fhir/Composition/9' } }],
    }));
    const ok = await fhirFetch(`${t.url}/fhir/Composition/outside/$document`);
    expect(ok.status, ok.text).toBe(200);
    expect(keys(ok.body).length).toBe(9);
  });

  it('refuses a document beyond DOCUMENT_MAX_RESOURCES with 422', async () => {
    const many = Array.from({ length: 25 }, (_, i) => ({ reference: `Observation/many${i}` }));
    for (let i = 0; i < 25; i++) await put({ resourceType: 'Observation', id: `many${i}`, status: 'final', code: { text: String(i) } });
    await put(composition('big', { section: [{ title: 'Many', entry: many }] }));
    const res = await fhirFetch(`${t.url}/fhir/Composition/big/$document`);
    expect(res.status).toBe(422);
    expect(res.body.issue[0].diagnostics).toContain('DOCUMENT_MAX_RESOURCES');
  });

  it('answers 404 for an unknown Composition and 400 for bad parameters', async () => {
    expect((await fhirFetch(`${t.url}/fhir/Composition/none/$document`)).status).toBe(404);
    for (const query of ['persist=yes', 'graph=http://example.org/g', 'id=comp']) {
      const res = await fhirFetch(`${t.url}/fhir/Composition/comp/$document?${query}`);
      expect(res.status, query).toBe(400);
    }
    // Served on Composition only: elsewhere it is an operation this server does not serve.
    expect((await fhirFetch(`${t.url}/fhir/Patient/pat/$document`)).status).toBe(501);
    expect((await fhirFetch(`${t.url}/fhir/Composition/$document?id=comp`)).status).toBe(501);
  });

  it('is listed on Composition only', async () => {
    const statement = (await fhirFetch(`${t.url}/fhir/metadata`, { token: null })).body;
    const typesWith = statement.rest[0].resource.filter((r: any) => r.operation?.some((o: any) => o.name === 'document')).map((r: any) => r.type);
    expect(typesWith).toEqual(['Composition']);
    const composition = statement.rest[0].resource.find((r: any) => r.type === 'Composition');
    expect(composition.operation).toContainEqual({ name: 'document', definition: 'http://hl7.org/fhir/OperationDefinition/Composition-document' });
  });
});

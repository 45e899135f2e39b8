import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

/** A transaction of `patients` Patients, each with observations pointing at it by urn:uuid. */
function buildTransaction(patients: number, observationsEach: number, tag: string) {
  const entry: any[] = [];
  for (let p = 0; p < patients; p++) {
    const fullUrl = `urn:uuid:00000000-0000-4000-8000-${String(p).padStart(12, '0')}`;
    entry.push({
      fullUrl,
      resource: { resourceType: 'Patient', identifier: [{ system: 'http://example.org/tx', value: `${tag}-${p}` }], name: [{ family: `Family${p}` }] },
      request: { method: 'POST', url: 'Patient' },
    });
    for (let o = 0; o < observationsEach; o++) {
      entry.push({
        fullUrl: `urn:uuid:${crypto.randomUUID()}`,
        resource: {
          resourceType: 'Observation', status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
          subject: { reference: fullUrl },
          valueQuantity: { value: 60 + o, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
        },
        request: { method: 'POST', url: 'Observation' },
      });
    }
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

async function countHistory(type: string): Promise<number> {
  let count = 0;
  let url: string | undefined = `${t.url}/fhir/${type}/_history?_count=1000`;
  while (url) {
    const page: any = (await fhirFetch(url)).body;
    count += page.entry.length;
    const next = page.link.find((l: any) => l.relation === 'next');
    url = next ? next.url.replace(t.config.publicUrl, t.url) : undefined;
  }
  return count;
}

describe('transaction Bundles', () => {
  it('commits 1,000 entries with cross-references atomically and resolves urn:uuid references', async () => {
    const bundle = buildTransaction(100, 9, 'ok');
    expect(bundle.entry).toHaveLength(1000);
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry).toHaveLength(1000);
    expect(res.body.entry[0].response.status).toBe('201 Created');
    expect(res.body.entry[0].response.location).toMatch(/^Patient\/[0-9a-f-]{36}\/_history\/1$/);
    const patientId = res.body.entry[0].resource.id;
    const obs = res.body.entry[1].resource;
    expect(obs.subject.reference).toBe(`Patient/${patientId}`);
    const read = await fhirFetch(`${t.url}/fhir/Observation/${obs.id}`);
    expect(read.body.subject.reference).toBe(`Patient/${patientId}`);
    expect(await countHistory('Observation')).toBe(900);
  });

  it('rolls everything back when one entry is invalid and names that entry', async () => {
    const bundle = buildTransaction(100, 9, 'bad');
    bundle.entry[537].resource.status = 'not-a-status';
    const before = await countHistory('Patient');
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle });
    expect(res.status).toBe(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
    const expressions = res.body.issue.flatMap((i: any) => i.expression ?? []);
    expect(expressions).toContain('Bundle.entry[537].resource.status');
    expect(res.body.issue[0].diagnostics).toContain('Bundle.entry[537]');
    expect(await countHistory('Patient')).toBe(before);
  });

  it('rolls back writes already applied when a later entry fails at the database (stale If-Match)', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', active: true } });
    const id = created.body.id;
    const bundle = {
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', name: [{ family: 'Rollback' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', id, active: false }, request: { method: 'PUT', url: `Patient/${id}`, ifMatch: 'W/"7"' } },
      ],
    };
    const before = await countHistory('Patient');
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle });
    expect(res.status).toBe(412);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[1]');
    expect(await countHistory('Patient')).toBe(before);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}`)).body.active).toBe(true);
  });

  it('processes DELETE, POST, PUT and GET entries and answers in request order', async () => {
    const a = (await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } })).body.id;
    const b = (await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } })).body.id;
    const res = await fhirFetch(`${t.url}/fhir`, {
      method: 'POST',
      body: {
        resourceType: 'Bundle', type: 'transaction',
        entry: [
          { request: { method: 'GET', url: `Patient/${b}` } },
          { resource: { resourceType: 'Patient', id: b, gender: 'other' }, request: { method: 'PUT', url: `Patient/${b}` } },
          { request: { method: 'DELETE', url: `Patient/${a}` } },
          { fullUrl: 'urn:uuid:9a1a3c1e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: any) => e.response.status)).toEqual(['200 OK', '200 OK', '204 No Content', '201 Created']);
    expect(res.body.entry[0].resource.gender).toBe('other');
    expect((await fhirFetch(`${t.url}/fhir/Patient/${a}`)).status).toBe(410);
  });

  it('applies a JSON Patch carried in a Binary entry', async () => {
    const id = (await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } })).body.id;
    const patch = Buffer.from(JSON.stringify([{ op: 'add', path: '/active', value: true }])).toString('base64');
    const res = await fhirFetch(`${t.url}/fhir`, {
      method: 'POST',
      body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: patch }, request: { method: 'PATCH', url: `Patient/${id}` } }] },
    });
    expect(res.status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}`)).body.active).toBe(true);
  });

  it('refuses a transaction that changes the same resource twice', async () => {
    const res = await fhirFetch(`${t.url}/fhir`, {
      method: 'POST',
      body: { resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: { resourceType: 'Patient', id: 'twice' }, request: { method: 'PUT', url: 'Patient/twice' } },
        { request: { method: 'DELETE', url: 'Patient/twice' } },
      ] },
    });
    expect(res.status).toBe(400);
  });

  it('maps a conditional create in a transaction onto the existing match', async () => {
    const identifier = [{ system: 'http://example.org/mrn', value: 'cond-1' }];
    const existing = (await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', identifier } })).body.id;
    const res = await fhirFetch(`${t.url}/fhir`, {
      method: 'POST',
      body: { resourceType: 'Bundle', type: 'transaction', entry: [
        { fullUrl: 'urn:uuid:11111111-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', identifier }, request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=http://example.org/mrn|cond-1' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:11111111-0000-4000-8000-000000000001' } }, request: { method: 'POST', url: 'Observation' } },
      ] },
    });
    expect(res.status).toBe(200);
    expect(res.body.entry[0].response.status).toBe('200 OK');
    expect(res.body.entry[1].resource.subject.reference).toBe(`Patient/${existing}`);
  });
});

describe('batch Bundles', () => {
  it('runs each entry on its own and reports each outcome', async () => {
    const res = await fhirFetch(`${t.url}/fhir`, {
      method: 'POST',
      body: { resourceType: 'Bundle', type: 'batch', entry: [
        { resource: { resourceType: 'Patient', name: [{ family: 'Batch' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', birthDate: 'yesterday' }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/missing' } },
      ] },
    });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    expect(res.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '422 Unprocessable Entity', '404 Not Found']);
    expect(res.body.entry[1].response.outcome.resourceType).toBe('OperationOutcome');
    const id = res.body.entry[0].resource.id;
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}`)).status).toBe(200);
  });

  it('refuses Bundles that are not batch or transaction', async () => {
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: { resourceType: 'Bundle', type: 'collection' } });
    expect(res.status).toBe(400);
  });
});

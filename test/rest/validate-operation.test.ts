import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

describe('$validate', () => {
  it('reports every issue of an invalid resource without storing it', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/$validate`, { method: 'POST', body: { resourceType: 'Patient', birthDate: '1970-13-45', gender: 'robot' } });
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('OperationOutcome');
    const expressions = res.body.issue.flatMap((i: any) => i.expression ?? []);
    expect(expressions).toEqual(expect.arrayContaining(['Patient.birthDate', 'Patient.gender']));
    const history = await fhirFetch(`${t.url}/fhir/Patient/_history`);
    expect(history.body.entry).toEqual([]);
  });

  it('answers an informational outcome for a valid resource, also inside Parameters', async () => {
    const plain = await fhirFetch(`${t.url}/fhir/Patient/$validate`, { method: 'POST', body: { resourceType: 'Patient', gender: 'female' } });
    expect(plain.body.issue).toEqual([expect.objectContaining({ severity: 'information' })]);
    const wrapped = await fhirFetch(`${t.url}/fhir/Patient/$validate`, {
      method: 'POST',
      body: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', gender: 'nope' } }] },
    });
    expect(wrapped.body.issue[0].severity).toBe('error');
    expect(wrapped.body.issue[0].expression).toEqual(['Patient.gender']);
  });

  it('validates a stored instance, or a body for that instance', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
    const id = created.body.id;
    const stored = await fhirFetch(`${t.url}/fhir/Patient/${id}/$validate`, { method: 'POST' });
    expect(stored.status).toBe(200);
    expect(stored.body.issue[0].severity).toBe('information');
    const body = await fhirFetch(`${t.url}/fhir/Patient/${id}/$validate`, { method: 'POST', body: { resourceType: 'Patient', id, active: 'maybe' } });
    expect(body.body.issue[0].expression).toEqual(['Patient.active']);
    const wrongId = await fhirFetch(`${t.url}/fhir/Patient/${id}/$validate`, { method: 'POST', body: { resourceType: 'Patient', id: 'other' } });
    expect(wrongId.status).toBe(400);
    expect((await fhirFetch(`${t.url}/fhir/Patient/missing/$validate`, { method: 'POST' })).status).toBe(404);
  });
});

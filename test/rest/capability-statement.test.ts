/**
 * Issue 15 (REST): the CapabilityStatement claimed what the server refuses — create, update,
 * patch and delete on AuditEvent (append-only: update and delete are refused to everyone, create
 * is for admin clients) — and left out `$graphql`. It lists what is served, per type, from the
 * routes the server registers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let statement: any;
beforeAll(async () => {
  t = await startTestServer();
  statement = (await fhirFetch(`${t.url}/fhir/metadata`, { token: null })).body;
});
afterAll(async () => { await t?.close(); });

const resource = (type: string) => statement.rest[0].resource.find((r: any) => r.type === type);
const codes = (entries: { code: string }[]) => entries.map((e) => e.code).sort();

describe('the CapabilityStatement lists what is served, per type', () => {
  it('lists no update, patch or delete on AuditEvent, and says create is for admin clients', async () => {
    const audit = resource('AuditEvent');
    expect(codes(audit.interaction)).toEqual(['create', 'history-instance', 'history-type', 'read', 'search-type', 'vread']);
    expect(audit.interaction.find((i: any) => i.code === 'create').documentation).toMatch(/admin/i);
    expect(audit.updateCreate).toBe(false);
    expect(audit.conditionalUpdate).toBe(false);
    expect(audit.conditionalDelete).toBe('not-supported');
  });

  it('matches what a client observes on AuditEvent', async () => {
    const created = await fhirFetch(`${t.url}/fhir/AuditEvent`, {
      method: 'POST',
      body: {
        resourceType: 'AuditEvent', type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110100' }, recorded: '2024-01-01T00:00:00Z',
        agent: [{ requestor: true, who: { display: 'importer' } }], source: { observer: { display: 'importer' } },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent/${id}`, { method: 'PUT', body: created.body })).status).toBe(403);
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent/${id}`, { method: 'DELETE' })).status).toBe(403);
  });

  it('keeps every interaction on the other types, with conditional read', async () => {
    const patient = resource('Patient');
    expect(codes(patient.interaction)).toEqual(['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread']);
    expect(patient.conditionalRead).toBe('full-support');
    expect(patient.conditionalUpdate).toBe(true);
    expect(patient.conditionalDelete).toBe('single');
    expect(patient.updateCreate).toBe(true);
  });

  it('lists $export and $graphql at system level and $validate, $everything and $export (Patient only) and $graphql on the types', async () => {
    expect(statement.rest[0].operation).toEqual([
      { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' },
      { name: 'graphql', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-graphql' },
    ]);
    expect(resource('Patient').operation).toEqual([
      { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
      { name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' },
      { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' },
      { name: 'graphql', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-graphql' },
    ]);
  });

  it('serves every operation it lists', async () => {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', gender: 'male' } });
    const system = await fhirFetch(`${t.url}/fhir/$graphql`, { method: 'POST', body: { query: '{ PatientList { id } }' }, headers: { 'content-type': 'application/json' } });
    expect(system.status).toBe(200);
    const instance = await fhirFetch(`${t.url}/fhir/Patient/${patient.body.id}/$graphql`, { method: 'POST', body: { query: '{ gender }' }, headers: { 'content-type': 'application/json' } });
    expect(instance.status).toBe(200);
    expect(instance.body.data.gender).toBe('male');
    expect((await fhirFetch(`${t.url}/fhir/Patient/$validate`, { method: 'POST', body: { resourceType: 'Patient' } })).status).toBe(200);
  });
});

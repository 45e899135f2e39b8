/**
 * The graph end to end over HTTP: each query form of https://hl7.org/fhir/R4/graphql.html on data
 * created through REST, mutations read back through REST, errors with `extensions.code`, the
 * FHIR GraphQL endpoints, protection limits, and the statement count of a nested query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const ids: Record<string, string> = {};

async function gql(query: string, variables: Record<string, unknown> = {}, options: { token?: string; path?: string } = {}) {
  const res = await fhirFetch(`${t.url}${options.path ?? '/graphql'}`, {
    method: 'POST', body: JSON.stringify({ query, variables }), headers: { 'content-type': 'application/json' }, token: options.token,
  });
  return res;
}

async function create(key: string, resource: Record<string, unknown>) {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  ids[key] = res.body.id;
}

beforeAll(async () => {
  t = await startTestServer();
  await create('prac', { resourceType: 'Practitioner', name: [{ family: 'Osler' }] });
  await create('smith', { resourceType: 'Patient', name: [{ family: 'Smith', given: ['Ann'] }], birthDate: '1970-01-01', gender: 'female', generalPractitioner: [{ reference: `Practitioner/${ids.prac}` }] });
  await create('jones', { resourceType: 'Patient', name: [{ family: 'Jones' }], gender: 'male' });
  for (const [key, value] of [['o1', 72], ['o2', 95]] as const) {
    await create(key, {
      resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: 'Heart rate' },
      subject: { reference: `Patient/${ids.smith}` }, performer: [{ reference: `Practitioner/${ids.prac}` }],
      valueQuantity: { value, unit: '/min' },
    });
  }
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('queries', () => {
  it('reads one resource by id', async () => {
    const res = await gql(`{ Patient(_id: "${ids.smith}") { id name { family given } birthDate gender } }`);
    expect(res.status).toBe(200);
    expect(res.body.data.Patient).toEqual({ id: ids.smith, name: [{ family: 'Smith', given: ['Ann'] }], birthDate: '1970-01-01', gender: 'female' });
  });

  it('lists with search arguments', async () => {
    const res = await gql('{ PatientList(name: "smi", _count: 10) { id } }');
    expect(res.body.data.PatientList).toEqual([{ id: ids.smith }]);
    const byGp = await gql(`{ PatientList(general_practitioner: "Practitioner/${ids.prac}") { id } }`);
    expect(byGp.body.data.PatientList).toEqual([{ id: ids.smith }]);
  });

  it('pages a connection with count, cursors and edges', async () => {
    const first = await gql('{ PatientConnection(_count: 1, _sort: "family") { count pagesize next edges { mode resource { id } } } }');
    const page = first.body.data.PatientConnection;
    expect(page.count).toBe(2);
    expect(page.edges).toEqual([{ mode: 'match', resource: { id: ids.jones } }]);
    const second = await gql(`{ PatientConnection(_count: 1, _sort: "family", _cursor: "${page.next}") { previous edges { resource { id } } } }`);
    expect(second.body.data.PatientConnection.edges).toEqual([{ resource: { id: ids.smith } }]);
    expect(second.body.data.PatientConnection.previous).toBeTruthy();
  });

  it('types include edges by their own resource type: an included Practitioner is no Patient', async () => {
    const search = `PatientConnection(_id: "${ids.smith}", _include: ["Patient:general-practitioner"])`;
    const plain = await gql(`{ ${search} { edges { mode resource { __typename id } } } }`);
    expect(plain.body.errors).toBeUndefined();
    expect(plain.body.data.PatientConnection.edges).toEqual([
      { mode: 'match', resource: { __typename: 'Patient', id: ids.smith } },
      { mode: 'include', resource: null },
    ]);
    const included = await gql(`{ ${search} { edges { mode included { __typename id ... on Practitioner { name { family } } } } } }`);
    expect(included.body.errors).toBeUndefined();
    expect(included.body.data.PatientConnection.edges).toEqual([
      { mode: 'match', included: null },
      { mode: 'include', included: { __typename: 'Practitioner', id: ids.prac, name: [{ family: 'Osler' }] } },
    ]);
  });

  it('follows Reference.resource to any target type, with fragments and the type argument', async () => {
    const res = await gql(`{ Observation(_id: "${ids.o1}") { subject { reference resource { ... on Patient { name { family } } } }
      performer { resource(type: "Practitioner") { ... on Practitioner { name { family } } } }
      other: performer { resource(type: "Organization") { id } } } }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.Observation.subject.resource).toEqual({ name: [{ family: 'Smith' }] });
    expect(res.body.data.Observation.performer[0].resource).toEqual({ name: [{ family: 'Osler' }] });
    expect(res.body.data.Observation.other[0].resource).toBeNull();
  });

  it('answers reverse references with their own search arguments', async () => {
    const res = await gql(`{ Patient(_id: "${ids.smith}") { ObservationList(_reference: subject, value_quantity: "gt80") { id valueQuantity { value unit } } } }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.Patient.ObservationList).toEqual([{ id: ids.o2, valueQuantity: { value: '95', unit: '/min' } }]);
  });

  it('serves /fhir/$graphql and /fhir/{type}/{id}/$graphql rooted at the resource', async () => {
    const system = await gql(`{ Patient(_id: "${ids.jones}") { gender } }`, {}, { path: '/fhir/$graphql' });
    expect(system.body.data.Patient.gender).toBe('male');
    const instance = await gql('{ name { family } gender }', {}, { path: `/fhir/Patient/${ids.smith}/$graphql` });
    expect(instance.body.data).toEqual({ name: [{ family: 'Smith' }], gender: 'female' });
  });

  it('accepts GET with a bearer token (CSRF prevention lets an Authorization header through)', async () => {
    const query = encodeURIComponent(`{ Patient(_id: "${ids.jones}") { id } }`);
    const res = await fhirFetch(`${t.url}/graphql?query=${query}`);
    expect(res.status).toBe(200);
    expect(res.body.data.Patient.id).toBe(ids.jones);
  });
});

describe('mutations', () => {
  it('creates, updates with ifMatch and deletes through the core service, readable through REST', async () => {
    const created = await gql('mutation($res: Patient_Input!) { PatientCreate(res: $res) { id meta { versionId } } }', {
      res: { name: [{ family: 'Graph' }], gender: 'other', extension: [{ url: 'http://example.org/weight', valueDecimal: '72.50' }] },
    });
    expect(created.body.errors).toBeUndefined();
    const id = created.body.data.PatientCreate.id;
    const rest = await fhirFetch(`${t.url}/fhir/Patient/${id}`);
    expect(rest.body.name).toEqual([{ family: 'Graph' }]);
    expect(rest.text).toContain('"valueDecimal":72.50');
    const updated = await gql(`mutation { PatientUpdate(id: "${id}", ifMatch: "W/\\"1\\"", res: { name: [{ family: "Graphed" }] }) { meta { versionId } } }`);
    expect(updated.body.data.PatientUpdate.meta.versionId).toBe('2');
    const stale = await gql(`mutation { PatientUpdate(id: "${id}", ifMatch: "W/\\"1\\"", res: { name: [{ family: "Lost" }] }) { id } }`);
    expect(stale.body.errors[0].extensions.code).toBe('PRECONDITION_FAILED');
    const deleted = await gql(`mutation { PatientDelete(id: "${id}") { id } }`);
    expect(deleted.body.data.PatientDelete.id).toBe(id);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}`)).status).toBe(410);
  });

  it('refuses invalid content with BAD_USER_INPUT and the OperationOutcome', async () => {
    const res = await gql('mutation { PatientCreate(res: { gender: "robot" }) { id } }');
    expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(res.body.errors[0].extensions.outcome.issue[0].expression).toEqual(['Patient.gender']);
    const badDate = await gql('mutation { PatientCreate(res: { birthDate: "1970-13-45" }) { id } }');
    expect(badDate.body.errors[0].message).toContain('Date');
    expect(badDate.body.data).toBeUndefined();
  });
});

describe('errors and protection', () => {
  it('answers NOT_FOUND with partial data', async () => {
    const res = await gql(`{ a: Patient(_id: "missing") { id } b: Patient(_id: "${ids.jones}") { id } }`);
    expect(res.body.data).toEqual({ a: null, b: { id: ids.jones } });
    expect(res.body.errors[0].extensions.code).toBe('NOT_FOUND');
  });

  it('returns null and FORBIDDEN for a reference the token may not read, never the data', async () => {
    const token = await t.tokenWithScope('system/Observation.rs');
    const res = await gql(`{ Observation(_id: "${ids.o1}") { id subject { resource { ... on Patient { name { family } } } } } }`, {}, { token });
    expect(res.body.data.Observation.id).toBe(ids.o1);
    expect(res.body.data.Observation.subject.resource).toBeNull();
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(JSON.stringify(res.body)).not.toContain('Smith');
  });

  it('refuses reverse references to an unreadable type with FORBIDDEN', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    const res = await gql(`{ Patient(_id: "${ids.smith}") { id ObservationList(_reference: subject) { id } } }`, {}, { token });
    expect(res.body.data.Patient.ObservationList).toBeNull();
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('refuses a query that is too costly before running it', async () => {
    const res = await gql('{ PatientList(_count: 1000) { ObservationList(_reference: subject, _count: 1000) { id } } }');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toContain('limit');
  });

  it('answers 401 without a token', async () => {
    const res = await gql('{ PatientList { id } }', {}, { token: null as unknown as string });
    expect(res.status).toBe(401);
  });
});

describe('batching', () => {
  async function seed(patients: number, tag: string) {
    const entry: unknown[] = [];
    for (let p = 0; p < patients; p++) {
      const fullUrl = `urn:uuid:${crypto.randomUUID()}`;
      entry.push({ fullUrl, resource: { resourceType: 'Patient', name: [{ family: `${tag}${p}` }], identifier: [{ system: 'http://example.org/batch', value: tag }] }, request: { method: 'POST', url: 'Patient' } });
      for (let o = 0; o < 10; o++) {
        entry.push({ resource: { resourceType: 'Observation', status: 'final', code: { text: 'hr' }, subject: { reference: fullUrl }, performer: [{ reference: `Practitioner/${ids.prac}` }] }, request: { method: 'POST', url: 'Observation' } });
      }
    }
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: { resourceType: 'Bundle', type: 'transaction', entry }, headers: { prefer: 'return=minimal' } });
    expect(res.status).toBe(200);
  }

  it('costs the same few statements for 5 and for 50 patients with 10 observations each', async () => {
    await seed(50, 'Fifty');
    await seed(5, 'Five');
    const query = (tag: string) => `{ PatientList(identifier: "http://example.org/batch|${tag}", _count: 50) { name { family }
      ObservationList(_reference: subject) { code { text } performer { resource { ... on Practitioner { name { family } } } } } } }`;
    const fifty = await gql(query('Fifty'));
    const five = await gql(query('Five'));
    expect(fifty.body.errors).toBeUndefined();
    expect(fifty.body.data.PatientList).toHaveLength(50);
    expect(fifty.body.data.PatientList.every((p: any) => p.ObservationList.length === 10 && p.ObservationList[0].performer[0].resource.name[0].family === 'Osler')).toBe(true);
    expect(five.body.data.PatientList).toHaveLength(5);
    console.log(`statements: 50 patients ${fifty.body.extensions.statements}, 5 patients ${five.body.extensions.statements}`);
    expect(fifty.body.extensions.statements).toBeLessThanOrEqual(5);
    expect(five.body.extensions.statements).toBe(fifty.body.extensions.statements);
  });
});

/**
 * Issue 15, the forms of GraphQL requests that third-party clients and the FHIR GraphQL page use
 * (https://hl7.org/fhir/R4/graphql.html):
 *
 * - a `_cursor` alone lost the page size (page 2 of `_count: 2` returned the default count) and
 *   the search's arguments; a cursor now carries the search it pages;
 * - `Patient(id: "…")`, the form of Medplum's and HAPI's documentation, failed validation;
 * - a `subscription` over HTTP answered 200 with a masked `INTERNAL_SERVER_ERROR`;
 * - `GET /fhir/$graphql?query=…` and `GET /fhir/{type}/{id}/$graphql?query=…` answered 404, and a
 *   POST with `Content-Type: application/graphql` 415.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
/** Patient ids by family name. */
const ids: Record<string, string> = {};

async function gql(query: string, variables: Record<string, unknown> = {}, options: { path?: string; token?: string | null } = {}): Promise<FhirResponse> {
  return fhirFetch(`${t.url}${options.path ?? '/graphql'}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }), token: options.token,
  });
}

function get(path: string, params: Record<string, string>, init: { token?: string | null; headers?: Record<string, string> } = {}): Promise<FhirResponse> {
  return fhirFetch(`${t.url}${path}?${new URLSearchParams(params)}`, init);
}

const families = (res: FhirResponse): string[] => res.body.data.PatientConnection.edges.map((e: any) => e.resource.name[0].family);

beforeAll(async () => {
  t = await startTestServer();
  for (const [family, gender] of [['Adams', 'female'], ['Brown', 'male'], ['Clark', 'female'], ['Davis', 'female'], ['Evans', 'male']]) {
    const res = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family }], gender } });
    expect(res.status).toBe(201);
    ids[family] = res.body.id;
  }
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('a _cursor alone pages the search it came from', () => {
  const page = '{ count pagesize next previous edges { resource { name { family } } } }';

  it('keeps the page size: page 2 of _count: 2 has 2 resources', async () => {
    const first = await gql(`{ PatientConnection(_count: 2, _sort: "family") ${page} }`);
    expect(families(first)).toEqual(['Adams', 'Brown']);
    const second = await gql('query($c: String) { PatientConnection(_cursor: $c) { pagesize next previous edges { resource { name { family } } } } }', { c: first.body.data.PatientConnection.next });
    expect(second.body.errors).toBeUndefined();
    expect(families(second)).toEqual(['Clark', 'Davis']);
    expect(second.body.data.PatientConnection.pagesize).toBe(2);
    const third = await gql(`{ PatientConnection(_cursor: "${second.body.data.PatientConnection.next}") ${page} }`);
    expect(families(third)).toEqual(['Evans']);
    expect(third.body.data.PatientConnection.next).toBeNull();
    const back = await gql(`{ PatientConnection(_cursor: "${third.body.data.PatientConnection.previous}") ${page} }`);
    expect(families(back)).toEqual(['Clark', 'Davis']);
  });

  it('keeps the criteria, and is priced at the page size it carries', async () => {
    const first = await gql(`{ PatientConnection(gender: "female", _count: 2, _sort: "family") ${page} }`);
    expect(families(first)).toEqual(['Adams', 'Clark']);
    expect(first.body.data.PatientConnection.count).toBe(3);
    const second = await gql(`{ PatientConnection(_cursor: "${first.body.data.PatientConnection.next}") ${page} }`);
    expect(families(second)).toEqual(['Davis']);
    expect(second.body.data.PatientConnection.count).toBe(3);
    expect(second.body.extensions.cost).toEqual(first.body.extensions.cost);
  });

  it('takes arguments given with the cursor over the ones it carries', async () => {
    const first = await gql(`{ PatientConnection(_count: 2, _sort: "family") ${page} }`);
    const next = first.body.data.PatientConnection.next;
    const one = await gql(`{ PatientConnection(_cursor: "${next}", _count: 1) ${page} }`);
    expect(families(one)).toEqual(['Clark']);
    // The form that repeats every argument (Apollo Client's fetchMore) answers as before.
    const repeated = await gql(`{ PatientConnection(_count: 2, _sort: "family", _cursor: "${next}") ${page} }`);
    expect(families(repeated)).toEqual(['Clark', 'Davis']);
  });

  it('refuses a cursor this server did not issue with BAD_USER_INPUT', async () => {
    for (const forged of ['garbage', Buffer.from('{"a":{"_count":"x"},"c":"y"}').toString('base64url'), Buffer.from('{"a":{"nonsense":"1"},"c":"y"}').toString('base64url')]) {
      const res = await gql(`{ PatientConnection(_cursor: "${forged}") { edges { resource { id } } } }`);
      expect(res.status).toBe(200);
      expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(res.body)).toBe('BAD_USER_INPUT');
    }
  });
});

describe('the read fields take `id` as well as `_id`', () => {
  it('reads Patient(id: "…") and Patient(_id: "…") alike', async () => {
    const byId = await gql(`{ Patient(id: "${ids.Adams}") { id name { family } } }`);
    expect(byId.body.errors).toBeUndefined();
    expect(byId.body.data.Patient).toEqual({ id: ids.Adams, name: [{ family: 'Adams' }] });
    const byUnderscore = await gql('query($id: ID!) { Patient(_id: $id) { id } }', { id: ids.Brown });
    expect(byUnderscore.body.data.Patient).toEqual({ id: ids.Brown });
    const variable = await gql('query($id: ID!) { Patient(id: $id) { id } }', { id: ids.Clark });
    expect(variable.body.data.Patient).toEqual({ id: ids.Clark });
  });

  it('refuses both or neither with a clear BAD_USER_INPUT', async () => {
    const both = await gql(`{ Patient(id: "${ids.Adams}", _id: "${ids.Brown}") { id } }`);
    expect(both.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(both.body.errors[0].message).toMatch(/either `id` or `_id`/);
    expect(both.body.data.Patient).toBeNull();
    const neither = await gql('{ Patient { id } }');
    expect(neither.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(neither.body.errors[0].message).toMatch(/either `id` or `_id`/);
  });
});

describe('a subscription over HTTP', () => {
  it('answers 400 BAD_REQUEST saying subscriptions run over graphql-ws (405 over GET)', async () => {
    for (const path of ['/graphql', '/fhir/$graphql']) {
      const res = await gql('subscription { PatientChanged { id } }', {}, { path });
      expect(res.status, res.text).toBe(400);
      expect(res.body.errors[0].extensions.code).toBe('BAD_REQUEST');
      expect(res.body.errors[0].message).toMatch(/WebSocket.*graphql-transport-ws/);
    }
    // A GET runs queries only (Apollo's answer for any other operation).
    const overGet = await get('/graphql', { query: 'subscription { PatientChanged { id } }' });
    expect(overGet.status).toBe(405);
    expect(overGet.body.errors[0].extensions.code).toBe('BAD_REQUEST');
  });
});

describe('GET and application/graphql at every GraphQL endpoint', () => {
  it('runs a query from GET /graphql, GET /fhir/$graphql and GET /fhir/{type}/{id}/$graphql', async () => {
    const query = `{ Patient(_id: "${ids.Davis}") { name { family } } }`;
    for (const path of ['/graphql', '/fhir/$graphql']) {
      const res = await get(path, { query });
      expect(res.status, `${path}: ${res.text}`).toBe(200);
      expect(res.body.data.Patient.name).toEqual([{ family: 'Davis' }]);
    }
    const variables = await get('/fhir/$graphql', { query: 'query($id: ID!) { Patient(id: $id) { gender } }', variables: JSON.stringify({ id: ids.Evans }) });
    expect(variables.body.data.Patient.gender).toBe('male');
    const instance = await get(`/fhir/Patient/${ids.Davis}/$graphql`, { query: '{ name { family } gender }' });
    expect(instance.status, instance.text).toBe(200);
    expect(instance.body.data).toEqual({ name: [{ family: 'Davis' }], gender: 'female' });
  });

  it('runs no mutation over GET (405 with Allow: POST)', async () => {
    for (const path of ['/graphql', '/fhir/$graphql', `/fhir/Patient/${ids.Davis}/$graphql`]) {
      const res = await get(path, { query: 'mutation { PatientCreate(res: { gender: "male" }) { id } }' });
      expect(res.status, `${path}: ${res.text}`).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      expect(res.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    }
    const count = await gql('{ PatientConnection(gender: "male") { count } }');
    expect(count.body.data.PatientConnection.count).toBe(2);
  });

  it('takes the same token, limits and audit as POST /graphql', async () => {
    const query = `{ Patient(_id: "${ids.Adams}") { id } }`;
    const anonymous = await get('/fhir/$graphql', { query }, { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const instanceAnonymous = await get(`/fhir/Patient/${ids.Adams}/$graphql`, { query: '{ id }' }, { token: null });
    expect(instanceAnonymous.status).toBe(401);
    const observationsOnly = await t.tokenWithScope('system/Observation.rs');
    const forbidden = await get('/fhir/$graphql', { query }, { token: observationsOnly });
    expect(forbidden.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const costly = await get('/fhir/$graphql', { query: '{ PatientList(_count: 1000) { id ObservationList(_reference: subject, _count: 1000) { id } } }' });
    expect(costly.status).toBe(400);
    expect(costly.body.errors[0].message).toMatch(/may return about/);

    // The same query by POST and by GET leaves the same AuditEvent, naming the patient read.
    const byPost = await t.createClient({ name: 'graphql over POST', scope: 'system/*.*' });
    const byGet = await t.createClient({ name: 'graphql over GET', scope: 'system/*.*' });
    const instanceQuery = { query: '{ id }' };
    const posted = await fhirFetch(`${t.url}/fhir/Patient/${ids.Brown}/$graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(instanceQuery), token: await t.tokenFor(byPost.refresh_token!),
    });
    expect(posted.status).toBe(200);
    expect((await get(`/fhir/Patient/${ids.Brown}/$graphql`, instanceQuery, { token: await t.tokenFor(byGet.refresh_token!) })).status).toBe(200);
    await t.server.security.auditLog.flush();
    const trail = await fhirFetch(`${t.url}/fhir/AuditEvent/_history?_count=1000`, { token: t.adminToken });
    // A read is one IHE BALP "query" event: the patient, and the query document (base64) as an entity of its own.
    const eventsOf = (clientId: string) => trail.body.entry.map((e: any) => e.resource).filter((e: any) => e.type.code === 'rest' && JSON.stringify(e.agent).includes(clientId))
      .map((e: any) => [e.subtype[0].code, e.action, e.outcome, e.entity?.map((x: any) => x.what?.reference ?? [x.role.code, Buffer.from(x.query, 'base64').toString('utf8')])]);
    expect(eventsOf(byGet.client_id)).toEqual(eventsOf(byPost.client_id));
    // (An instance-level query runs as the document rooted at its resource.)
    expect(eventsOf(byGet.client_id)).toEqual([[expect.any(String), 'R', '0', [`Patient/${ids.Brown}`, ['24', expect.stringContaining(`Patient(_id: "${ids.Brown}")`)]]]]);
  });

  it('lists $graphql in the CapabilityStatement, on every resource type', async () => {
    const metadata = await fhirFetch(`${t.url}/fhir/metadata`, { token: null });
    const patient = metadata.body.rest[0].resource.find((r: any) => r.type === 'Patient');
    expect(patient.operation).toContainEqual({ name: 'graphql', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-graphql' });
    // Other methods on the GraphQL paths: 405 with the methods served.
    const put = await fhirFetch(`${t.url}/fhir/$graphql`, { method: 'PUT', body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, HEAD');
  });

  it('takes a POST whose body is the query, as application/graphql', async () => {
    for (const path of ['/graphql', '/fhir/$graphql']) {
      const res = await fhirFetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/graphql' }, body: `{ Patient(id: "${ids.Evans}") { name { family } } }` });
      expect(res.status, `${path}: ${res.text}`).toBe(200);
      expect(res.body.data.Patient.name).toEqual([{ family: 'Evans' }]);
    }
    const instance = await fhirFetch(`${t.url}/fhir/Patient/${ids.Evans}/$graphql`, { method: 'POST', headers: { 'content-type': 'application/graphql; charset=utf-8' }, body: '{ gender }' });
    expect(instance.status, instance.text).toBe(200);
    expect(instance.body.data).toEqual({ gender: 'male' });
    const mutation = await fhirFetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/graphql' }, body: 'mutation { PatientCreate(res: { name: [{ family: "Posted" }] }) { name { family } } }' });
    expect(mutation.body.data.PatientCreate.name).toEqual([{ family: 'Posted' }]);
    // Elsewhere it is no FHIR body: 415 with an OperationOutcome.
    const rest = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', headers: { 'content-type': 'application/graphql' }, body: '{ id }' });
    expect(rest.status).toBe(415);
    expect(rest.body.resourceType).toBe('OperationOutcome');
  });
});

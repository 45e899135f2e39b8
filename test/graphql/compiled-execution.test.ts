/**
 * Compiled execution (src/graphql/compiled-executor.ts): a query document runs on graphql-js the
 * first time it is seen and as a compiled query from its second run on. A client must not be
 * able to tell: each request here is sent three times and every answer (status, data, errors
 * with their `extensions.code` and paths, exact decimals, statement count, cost) must be the
 * first one's. The cases cover what resolvers do (reads, lists, connections, reverse references,
 * `Reference.resource` with fragments on the `Resource` interface, authorisation), variables
 * (good and refused), directives of the spec (`@skip`, `@include`), aliases, fragments and the
 * instance-level endpoint, and Federation's `_entities`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const ids: Record<string, string> = {};

async function create(key: string, resource: Record<string, unknown> | string) {
  const res = await fhirFetch(`${t.url}/fhir/${typeof resource === 'string' ? 'Observation' : resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  ids[key] = res.body.id;
}

/** Sends one request three times: graphql-js answers the first, the compiled query the others. */
async function thrice(query: string, variables: Record<string, unknown> = {}, options: { token?: string; path?: string } = {}): Promise<FhirResponse> {
  const send = () => fhirFetch(`${t.url}${options.path ?? '/graphql'}`, {
    method: 'POST', body: JSON.stringify({ query, variables }), headers: { 'content-type': 'application/json' }, token: options.token,
  });
  const first = await send();
  for (let run = 2; run <= 3; run++) {
    const again = await send();
    expect({ run, status: again.status, text: again.text }).toEqual({ run, status: first.status, text: first.text });
  }
  return first;
}

beforeAll(async () => {
  t = await startTestServer();
  await create('prac', { resourceType: 'Practitioner', name: [{ family: 'Osler', given: ['William'] }] });
  await create('org', { resourceType: 'Organization', name: 'Ward 7' });
  await create('smith', { resourceType: 'Patient', name: [{ family: 'Smith', given: ['Ann'] }], birthDate: '1970-01-01', generalPractitioner: [{ reference: `Practitioner/${ids.prac}` }] });
  await create('jones', { resourceType: 'Patient', name: [{ family: 'Jones' }], gender: 'male' });
  // Written as text, so the decimal keeps its trailing zero.
  await create('o1', `{"resourceType":"Observation","status":"final","code":{"text":"Weight"},"subject":{"reference":"Patient/${ids.smith}"},`
    + `"performer":[{"reference":"Practitioner/${ids.prac}"},{"reference":"Organization/${ids.org}"}],"valueQuantity":{"value":72.50,"unit":"kg"}}`);
  await create('o2', { resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, subject: { reference: `Patient/${ids.smith}` }, performer: [{ reference: `Practitioner/${ids.prac}` }] });
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('a compiled query answers as graphql-js did', () => {
  it('the nested query: lists, reverse references, Reference.resource on the Resource interface, exact decimals, the same statements', async () => {
    const res = await thrice(`{ PatientList(_count: 10, _sort: "family") { id name { family given } ObservationList(_reference: subject, _sort: "code") {
      code { text } valueQuantity { value unit } performer { reference resource { __typename ... on Practitioner { name { family } } ... on Organization { orgName: name } } } } } }`);
    expect(res.body.errors).toBeUndefined();
    const smith = res.body.data.PatientList.find((p: { id: string }) => p.id === ids.smith);
    expect(smith.ObservationList).toHaveLength(2);
    const weight = smith.ObservationList.find((o: { code: { text: string } }) => o.code.text === 'Weight');
    expect(weight.valueQuantity).toEqual({ value: '72.50', unit: 'kg' });
    expect(weight.performer.map((p: { resource: unknown }) => p.resource)).toEqual([
      { __typename: 'Practitioner', name: [{ family: 'Osler' }] },
      { __typename: 'Organization', orgName: 'Ward 7' },
    ]);
    expect(res.body.extensions.statements).toBeGreaterThan(0);
  });

  it('errors keep their code, path and the partial data: NOT_FOUND, and FORBIDDEN for a reference the token may not read', async () => {
    const missing = await thrice(`{ a: Patient(_id: "missing") { id } b: Patient(_id: "${ids.jones}") { id } }`);
    expect(missing.body.data).toEqual({ a: null, b: { id: ids.jones } });
    expect(missing.body.errors[0]).toMatchObject({ path: ['a'], extensions: { code: 'NOT_FOUND' } });
    const token = await t.tokenWithScope('system/Observation.rs');
    const forbidden = await thrice(`{ Observation(_id: "${ids.o1}") { id subject { resource { ... on Patient { name { family } } } } } }`, {}, { token });
    expect(forbidden.body.data.Observation).toEqual({ id: ids.o1, subject: { resource: null } });
    expect(forbidden.body.errors[0]).toMatchObject({ path: ['Observation', 'subject', 'resource'], extensions: { code: 'FORBIDDEN' } });
    expect(forbidden.text).not.toContain('Smith');
  });

  it('variables: used in arguments and in @skip/@include; a refused variable is a 400 BAD_USER_INPUT each time', async () => {
    const query = `query Q($id: ID!, $withName: Boolean!, $count: Int) {
      Patient(_id: $id) { id name @include(if: $withName) { family } gender @skip(if: $withName) }
      PatientList(_count: $count, _sort: "family") { ...Names } }
      fragment Names on Patient { id n: name { family } }`;
    const named = await thrice(query, { id: ids.smith, withName: true, count: 1 });
    expect(named.body.errors).toBeUndefined();
    expect(named.body.data).toEqual({ Patient: { id: ids.smith, name: [{ family: 'Smith' }] }, PatientList: [{ id: ids.jones, n: [{ family: 'Jones' }] }] });
    const unnamed = await thrice(query, { id: ids.jones, withName: false, count: 2 });
    expect(unnamed.body.data.Patient).toEqual({ id: ids.jones, gender: 'male' });
    expect(unnamed.body.data.PatientList).toHaveLength(2);
    const refused = await thrice(query, { id: ids.jones, withName: 'yes' });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('connections, and the instance-level endpoint whose root is the resource', async () => {
    const page = await thrice('{ PatientConnection(_count: 1, _sort: "family") { count pagesize edges { mode resource { id } } } }');
    expect(page.body.data.PatientConnection).toMatchObject({ count: 2, pagesize: 1, edges: [{ mode: 'match', resource: { id: ids.jones } }] });
    const instance = await thrice('{ id generalPractitioner { resource { ... on Practitioner { name { given } } } } }', {}, { path: `/fhir/Patient/${ids.smith}/$graphql` });
    expect(instance.body.data).toEqual({ id: ids.smith, generalPractitioner: [{ resource: { name: [{ given: ['William'] }] } }] });
  });

  it('Federation entities: resolved, null for an unknown id, FORBIDDEN at their index for an unreadable type', async () => {
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Patient { id name { family } } } }';
    const r = [{ __typename: 'Patient', id: ids.smith }, { __typename: 'Patient', id: 'no-such-patient' }];
    const found = await thrice(query, { r });
    expect(found.body.data._entities).toEqual([{ __typename: 'Patient', id: ids.smith, name: [{ family: 'Smith' }] }, null]);
    const token = await t.tokenWithScope('system/Observation.rs');
    const forbidden = await thrice(query, { r }, { token });
    expect(forbidden.body.data._entities).toEqual([null, null]);
    expect(forbidden.body.errors[0]).toMatchObject({ path: ['_entities', 0], extensions: { code: 'FORBIDDEN' } });
  });
});

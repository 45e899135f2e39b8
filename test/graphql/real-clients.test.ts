/**
 * Real GraphQL clients against the real server (issue 5, "Real clients work"): `@apollo/client`
 * and `@urql/core` send a bearer token and run the nested query of the statement-count test on data
 * created through REST; urql also over GET, which Apollo's CSRF prevention lets through because
 * the request carries an `Authorization` header (DECISIONS.md §6).
 */
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core';
import { createClient as createUrqlClient, fetchExchange } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let token: string;

const NESTED = `{ PatientList(_count: 5) { name { family } ObservationList(_reference: subject) { code { text } performer { resource { ... on Practitioner { name { family } } } } } } }`;

/** What the nested query must answer, whatever the order of the patients. */
const EXPECTED = [
  { family: 'Curie', codes: ['Heart rate', 'Body weight'] },
  { family: 'Pasteur', codes: ['Heart rate'] },
];

async function create(resource: Record<string, unknown>): Promise<string> {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

beforeAll(async () => {
  t = await startTestServer();
  token = await t.tokenWithScope('system/Patient.rs system/Observation.rs system/Practitioner.rs');
  const practitioner = await create({ resourceType: 'Practitioner', name: [{ family: 'Osler' }] });
  const observe = (patient: string, text: string) => create({
    resourceType: 'Observation', status: 'final', code: { text }, subject: { reference: `Patient/${patient}` },
    performer: [{ reference: `Practitioner/${practitioner}` }],
  });
  const curie = await create({ resourceType: 'Patient', name: [{ family: 'Curie' }] });
  const pasteur = await create({ resourceType: 'Patient', name: [{ family: 'Pasteur' }] });
  await observe(curie, 'Heart rate');
  await observe(curie, 'Body weight');
  await observe(pasteur, 'Heart rate');
}, 60_000);
afterAll(async () => { await t?.close(); });

/** Checks the nested answer: each patient with its observations, each performed by Osler. */
function expectNested(data: any) {
  const patients = [...data.PatientList].sort((a: any, b: any) => a.name[0].family.localeCompare(b.name[0].family));
  expect(patients).toHaveLength(EXPECTED.length);
  patients.forEach((patient: any, i: number) => {
    expect(patient.name[0].family).toBe(EXPECTED[i].family);
    expect(patient.ObservationList.map((o: any) => o.code.text).sort()).toEqual([...EXPECTED[i].codes].sort());
    for (const observation of patient.ObservationList) {
      expect(observation.performer).toHaveLength(1);
      expect(observation.performer[0].resource.name[0].family).toBe('Osler');
    }
  });
}

describe('@apollo/client', () => {
  function apollo(cache: InMemoryCache) {
    return new ApolloClient({
      link: new HttpLink({ uri: `${t.url}/graphql`, fetch, headers: { authorization: `Bearer ${token}` } }),
      cache,
    });
  }

  it('runs the nested query with a bearer token through a normalised cache', async () => {
    // `possibleTypes` lets the cache match `... on Practitioner` against the `Resource` interface.
    const client = apollo(new InMemoryCache({ possibleTypes: { Resource: ['Patient', 'Practitioner', 'Observation', 'Organization'] } }));
    const result = await client.query({ query: gql(NESTED) });
    expect(result.errors).toBeUndefined();
    expectNested(result.data);
    // The answer comes back from the cache with the fragment still resolved.
    const cached = await client.query({ query: gql(NESTED), fetchPolicy: 'cache-only' });
    expectNested(cached.data);
  });

  it('runs it without a cache', async () => {
    const client = apollo(new InMemoryCache());
    const result = await client.query({ query: gql(NESTED), fetchPolicy: 'no-cache' });
    expectNested(result.data);
  });

  it('pages a connection with fetchMore passing the cursor alone (issue 15: the page size was lost)', async () => {
    const client = apollo(new InMemoryCache());
    const PAGE = gql('query Page($cursor: String) { PatientConnection(_count: 1, _sort: "family", _cursor: $cursor) { next edges { resource { name { family } } } } }');
    const first = await client.query({ query: PAGE, fetchPolicy: 'no-cache' });
    const families = (data: any) => data.PatientConnection.edges.map((e: any) => e.resource.name[0].family);
    expect(families(first.data)).toEqual(['Curie']);
    const ALONE = gql('query Next($cursor: String) { PatientConnection(_cursor: $cursor) { next edges { resource { name { family } } } } }');
    const second = await client.query({ query: ALONE, variables: { cursor: first.data.PatientConnection.next }, fetchPolicy: 'no-cache' });
    expect(families(second.data)).toEqual(['Pasteur']);
    expect(second.data.PatientConnection.next).toBeNull();
  });

  it('gets an authentication error without a token', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: `${t.url}/graphql`, fetch }), cache: new InMemoryCache() });
    await expect(client.query({ query: gql(NESTED), fetchPolicy: 'no-cache' })).rejects.toThrow(/401/);
  });
});

describe('@urql/core', () => {
  const methods: string[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    methods.push(init?.method ?? 'GET');
    return fetch(input, init);
  };

  function urql(preferGetMethod: boolean, path = '/graphql') {
    return createUrqlClient({
      url: `${t.url}${path}`,
      exchanges: [fetchExchange],
      fetch: recordingFetch,
      preferGetMethod,
      fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    });
  }

  it('runs the nested query over POST', async () => {
    const result = await urql(false).query(NESTED, {}).toPromise();
    expect(result.error).toBeUndefined();
    expectNested(result.data);
  });

  it('runs it over GET: a bearer token passes CSRF prevention', async () => {
    methods.length = 0;
    const result = await urql(true).query(NESTED, {}).toPromise();
    expect(methods).toEqual(['GET']);
    expect(result.error).toBeUndefined();
    expectNested(result.data);
  });

  it('runs it over GET at the FHIR endpoint /fhir/$graphql (issue 15: 404 before)', async () => {
    methods.length = 0;
    const result = await urql(true, '/fhir/$graphql').query(NESTED, {}).toPromise();
    expect(methods).toEqual(['GET']);
    expect(result.error).toBeUndefined();
    expectNested(result.data);
  });

  it('a GET without a token or a preflight header is refused', async () => {
    const res = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ PatientList { id } }')}`);
    expect([400, 401]).toContain(res.status);
  });
});

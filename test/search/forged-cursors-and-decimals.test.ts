/**
 * Issue 14 item 10, "client input → 500": forged `_cursor` values (`garbage` for a date key,
 * `294277-01-01`, `1e999999`) and decimals overflowing PostgreSQL `numeric` (`1e131072`, 200,001
 * digits) were answered 500 (GraphQL: INTERNAL_SERVER_ERROR), and the driver's message — quoting
 * the forged value — was logged. A cursor's values are now checked against their sort keys' types
 * (400), decimals are bounded (400 in a search, 422 in a resource), and none of it reaches the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const logs: string[] = [];
const HUGE = '9'.repeat(200_001);

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  t = await startTestServer({ logLevel: 'trace' }, undefined, logs);
  for (const [family, value] of [['Alpha', 1], ['Beta', 2], ['Gamma', 3]] as const) {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family }], birthDate: `197${value}-01-01` } });
    await fhirFetch(`${t.url}/fhir/Observation`, {
      method: 'POST', body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${patient.body.id}` }, valueQuantity: { value } },
    });
  }
});
afterAll(async () => { await t?.close(); });

const FORGED: [string, string, unknown][] = [
  ['a word for a date key', 'Patient?_sort=birthdate', { f: true, v: ['garbage', 'x'] }],
  ['a date past PostgreSQL\'s range', 'Patient?_sort=birthdate', { f: true, v: ['294277-01-01 00:00:00+00', 'x'] }],
  ['a day that does not exist', 'Patient?_sort=-birthdate', { f: false, v: ['2024-02-30 00:00:00+00', 'x'] }],
  ['an exponent numeric cannot hold', 'Observation?_sort=value-quantity', { f: true, v: ['1e999999', 'x'] }],
  ['a NUL in a text key', 'Patient?_sort=family', { f: true, v: ['a\u0000b', 'x'] }],
  ['a timestamp for _lastUpdated with garbage', 'Patient?_sort=_lastUpdated', { f: true, v: ['yesterday', 'x'] }],
  ['the wrong number of values', 'Patient?_sort=family', { f: true, v: ['garbage'] }],
  ['a direction that is not a boolean', 'Patient', { f: 'yes', v: ['x'] }],
];

describe('forged cursors', () => {
  it.each(FORGED)('answers 400 for %s', async (_name, search, forged) => {
    const res = await fhirFetch(`${t.url}/fhir/${search}${search.includes('?') ? '&' : '?'}_cursor=${cursor(forged)}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'invalid', expression: ['_cursor'] }] });
  });

  it('answers GraphQL with BAD_USER_INPUT', async () => {
    const forged = cursor({ f: true, v: ['294277-01-01 00:00:00+00', 'x'] });
    const res = await fhirFetch(`${t.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ PatientConnection(_sort: "birthdate", _cursor: "${forged}") { edges { resource { id } } } }` }),
    });
    expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('still pages with the cursors the server issues, in both directions', async () => {
    const seen: string[] = [];
    let next: string | undefined = `${t.url}/fhir/Patient?_sort=-birthdate,family&_count=1`;
    let last: any;
    while (next) {
      last = (await fhirFetch(next)).body;
      seen.push(last.entry[0].resource.name[0].family);
      next = last.link.find((l: any) => l.relation === 'next')?.url;
    }
    expect(seen).toEqual(['Gamma', 'Beta', 'Alpha']);
    const previous = (await fhirFetch(last.link.find((l: any) => l.relation === 'previous').url)).body;
    expect(previous.entry[0].resource.name[0].family).toBe('Beta');
  });
});

describe('decimals beyond what numeric holds', () => {
  it('answers 400 for search numbers out of bounds, REST and GraphQL', async () => {
    for (const value of ['1e131072', HUGE.slice(0, 5_000)]) {
      const res = await fhirFetch(`${t.url}/fhir/Observation?value-quantity=gt${value}`);
      expect(res.status).toBe(400);
    }
    // 60,000 digits: as many as a form body within MAX_FORM_BODY holds (all 200,001 of them: 413).
    const form = await fhirFetch(`${t.url}/fhir/Observation/_search`, {
      method: 'POST', body: `value-quantity=${HUGE.slice(0, 60_000)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(400);
    expect(form.body.resourceType).toBe('OperationOutcome');
    const graph = await fhirFetch(`${t.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ ObservationList(value_quantity: "${HUGE}") { id } }` }),
    });
    expect(graph.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('answers 422 naming the element for resources holding them, REST and GraphQL', async () => {
    for (const value of ['1e131072', HUGE, '1e-400']) {
      const res = await fhirFetch(`${t.url}/fhir/Observation`, {
        method: 'POST', body: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":${value}}}`,
      });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'too-costly', expression: ['Observation.valueQuantity.value'] }] });
    }
    const bundle = `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Observation"},
      "resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e131072}}}]}`;
    const tx = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle });
    expect(tx.status).toBe(422);
    expect(tx.body.issue[0].expression).toEqual(['Bundle.entry[0].resource.valueQuantity.value']);
    const graph = await fhirFetch(`${t.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { ObservationCreate(res: { status: "final", code: { text: "x" }, valueQuantity: { value: "1e131072" } }) { id } }' }),
    });
    expect(graph.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('keeps decimals well inside the bounds exact', async () => {
    const value = `123456789012345678901234567890.${'0'.repeat(20)}1`;
    const res = await fhirFetch(`${t.url}/fhir/Observation`, {
      method: 'POST', body: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":${value}}}`,
    });
    expect(res.status).toBe(201);
    expect(res.text).toContain(`"value":${value}`);
    const found = await fhirFetch(`${t.url}/fhir/Observation?value-quantity=${value}`);
    expect(found.body.entry).toHaveLength(1);
  });
});

describe('what reaches the logs', () => {
  it('holds none of the forged cursors or values', () => {
    expect(logs.length).toBeGreaterThan(0);
    const text = logs.join('\n');
    for (const forged of ['garbage', '294277', '1e999999', '1e131072', '99999999999999999999', 'yesterday']) expect(text).not.toContain(forged);
    for (const [, , value] of FORGED) expect(text).not.toContain(cursor(value));
  });
});

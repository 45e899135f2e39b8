/**
 * Reverse references and `Reference.resource` read only the elements a query selects (SQL-side
 * projection). What a client sees must not change: fields reached through named and inline
 * fragments, `__typename`, nested reverse references and exact decimals all come back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCurrentMany } from '../../src/store/resource-repository.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const ids: Record<string, string> = {};

async function create(key: string, resource: Record<string, unknown>) {
  // JSON text with the decimal written as 72.50 (a JS number would lose the trailing zero).
  const body = JSON.stringify(resource).replace('"value":"72.50"', '"value":72.50');
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body, headers: { 'content-type': 'application/fhir+json' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  ids[key] = res.body.id;
}

beforeAll(async () => {
  t = await startTestServer();
  await create('prac', { resourceType: 'Practitioner', name: [{ family: 'Osler', given: ['William'] }], gender: 'male' });
  await create('pat', { resourceType: 'Patient', name: [{ family: 'Projected' }], birthDate: '1980-02-03' });
  await create('obs', {
    resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' }, subject: { reference: `Patient/${ids.pat}` },
    performer: [{ reference: `Practitioner/${ids.prac}` }], valueQuantity: { value: '72.50', unit: '/min' }, note: [{ text: 'not selected' }],
  });
  await create('enc', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${ids.pat}` } });
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('projected reads keep what the query selects', () => {
  it('answers fields from fragments, __typename, meta and exact decimals', async () => {
    const query = `
      fragment Who on Practitioner { name { family given } gender meta { versionId } }
      query { Patient(_id: "${ids.pat}") {
        ObservationList(_reference: subject) {
          __typename status valueQuantity { value unit }
          ... on Observation { code { text } }
          performer { resource { __typename ...Who } }
          subject { resource { ... on Patient { birthDate EncounterList(_reference: subject) { status } } } }
        }
      } }`;
    const res = await fhirFetch(`${t.url}/graphql`, { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } });
    expect(res.body.errors).toBeUndefined();
    const [obs] = res.body.data.Patient.ObservationList;
    expect(obs).toEqual({
      __typename: 'Observation', status: 'final', valueQuantity: { value: '72.50', unit: '/min' }, code: { text: 'Heart rate' },
      performer: [{ resource: { __typename: 'Practitioner', name: [{ family: 'Osler', given: ['William'] }], gender: 'male', meta: { versionId: '1' } } }],
      subject: { resource: { birthDate: '1980-02-03', EncounterList: [{ status: 'finished' }] } },
    });
  });

  it('answers a list cut down in SQL, and references its reverse list follows, as read whole: the same data, three statements', async () => {
    const query = `{ PatientList(_id: "${ids.pat}") { name { family } birthDate
      ObservationList(_reference: subject) { code { text } valueQuantity { value } performer { reference resource { __typename ... on Practitioner { name { family } gender } } } } } }`;
    const send = () => fhirFetch(`${t.url}/graphql`, { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } });
    const first = await send();
    // The second run is compiled (compiled-executor.ts): the same answer, byte for byte.
    expect((await send()).text).toBe(first.text);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.PatientList).toEqual([{
      name: [{ family: 'Projected' }], birthDate: '1980-02-03',
      ObservationList: [{
        code: { text: 'Heart rate' }, valueQuantity: { value: '72.50' },
        performer: [{ reference: `Practitioner/${ids.prac}`, resource: { __typename: 'Practitioner', name: [{ family: 'Osler' }], gender: 'male' } }],
      }],
    }]);
    // The list, the reverse references, and the Practitioners they follow.
    expect(first.body.extensions.statements).toBe(3);
  });

  it('reads only the selected top-level elements from the store, their text as stored', async () => {
    const key = `Observation/${ids.obs}`;
    const whole = (await readCurrentMany(t.server.service.db, [{ resourceType: 'Observation', id: ids.obs }])).get(key)!;
    const cut = (await readCurrentMany(t.server.service.db, [{ resourceType: 'Observation', id: ids.obs }], ['id', 'resourceType', 'valueQuantity'])).get(key)!;
    expect(Object.keys(JSON.parse(whole.content!))).toContain('note');
    expect(Object.keys(JSON.parse(cut.content!)).sort()).toEqual(['id', 'resourceType', 'valueQuantity']);
    expect(cut.content).toContain('72.50');
  });
});

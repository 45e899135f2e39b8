/**
 * Searches with one string, date or token criterion in the default order read their matches by
 * walking the index in id order (src/search/sql/id-walk-query.ts), and date tests are written on
 * the bare index columns with open ends as NULL (src/search/sql/value-conditions.ts). The pages,
 * their order and their links must be those of the general query: each search here is also run
 * with a second criterion that every resource meets, which takes the general path.
 * https://hl7.org/fhir/R4/search.html
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const ids: Record<string, string> = {};
const labs: string[] = [];

async function create(key: string, resource: Record<string, unknown>): Promise<string> {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  ids[key] = res.body.id;
  return res.body.id;
}

async function bundle(url: string) {
  const res = await fhirFetch(url.replace(t.config.publicUrl, t.url));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const idsOfPage = (page: any): string[] => (page.entry ?? []).map((e: any) => e.resource.id);
const link = (page: any, relation: string): string | undefined => page.link.find((l: any) => l.relation === relation)?.url;

/** Every page of a search by `next` links, then back by `previous` links from the last one. */
async function walkPages(query: string): Promise<{ forward: string[][]; backward: string[][] }> {
  const forward: string[][] = [];
  let page = await bundle(`${t.url}/fhir/${query}`);
  forward.push(idsOfPage(page));
  while (link(page, 'next')) {
    page = await bundle(link(page, 'next')!);
    forward.push(idsOfPage(page));
  }
  const backward: string[][] = [idsOfPage(page)];
  while (link(page, 'previous')) {
    page = await bundle(link(page, 'previous')!);
    backward.unshift(idsOfPage(page));
  }
  return { forward, backward };
}

async function matches(query: string): Promise<string[]> {
  return idsOfPage(await bundle(`${t.url}/fhir/${query}`));
}

beforeAll(async () => {
  t = await startTestServer();
  for (let i = 0; i < 7; i++) {
    labs.push(await create(`lab${i}`, {
      resourceType: 'Observation', status: 'final', code: { text: 'lab' },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
      effectiveDateTime: `2024-0${i + 1}-15T10:00:00Z`,
    }));
  }
  await create('vital', {
    resourceType: 'Observation', status: 'final', code: { text: 'vital' },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    effectiveDateTime: '2023-03-01',
  });
  await create('openEnd', { resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' }, period: { start: '2024-01-01' } });
  await create('openStart', { resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' }, period: { end: '2020-01-01' } });
  await create('closed', { resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' }, period: { start: '2022-01-01', end: '2022-01-31' } });
  await create('patient', { resourceType: 'Patient', name: [{ family: 'Walker', given: ['Ida'] }], address: [{ city: 'Springfield' }] });
  await create('patient2', { resourceType: 'Patient', name: [{ family: 'Walkerson' }], address: [{ city: 'Shelbyville' }] });
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('a search with one criterion walks its matches in id order', () => {
  const sorted = () => [...labs].sort();

  it('pages a token search by next and previous links in id order, as the general query does', async () => {
    for (const query of ['Observation?category=laboratory&_count=3', 'Observation?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&_count=3']) {
      const walked = await walkPages(query);
      expect(walked.forward.flat()).toEqual(sorted());
      expect(walked.forward.map((p) => p.length)).toEqual([3, 3, 1]);
      expect(walked.backward).toEqual(walked.forward);
      expect(await walkPages(`${query}&status=final`)).toEqual(walked);
    }
  });

  it('pages a date search in id order, as the general query does', async () => {
    const walked = await walkPages('Observation?date=ge2024-02-01&_count=2');
    expect(walked.forward.flat()).toEqual(sorted().filter((id) => id !== ids.lab0));
    expect(walked.backward).toEqual(walked.forward);
    expect(await walkPages('Observation?date=ge2024-02-01&_count=2&status=final')).toEqual(walked);
  });

  it('finds string prefixes and :contains, and ORs values', async () => {
    expect(await matches('Patient?name=walker')).toEqual([ids.patient, ids.patient2].sort());
    expect(await matches('Patient?address:contains=ingfie')).toEqual([ids.patient]);
    expect(await matches('Observation?category=vital-signs,laboratory&_count=100')).toEqual([...labs, ids.vital].sort());
    expect(await matches('Observation?category=nothing')).toEqual([]);
  });
});

describe('date prefixes against open-ended periods', () => {
  const cases: [string, string[]][] = [
    ['gt2030', ['openEnd']],
    ['ge2030', ['openEnd']],
    ['lt2000', ['openStart']],
    ['le2000', ['openStart']],
    ['eq2022-01', ['closed']],
    ['2022-01', ['closed']],
    ['ne2022-01', ['openEnd', 'openStart']],
    ['sa2023', ['openEnd']],
    ['eb2021', ['openStart']],
    ['ap2024-01-01', ['openEnd']],
    ['ge2022-01-15', ['openEnd', 'closed']],
    ['le2022-01-15', ['openStart', 'closed']],
  ];
  it.each(cases)('Encounter?date=%s matches the open ends as unbounded', async (value, keys) => {
    const expected = keys.map((k) => ids[k]).sort();
    expect(await matches(`Encounter?date=${value}`)).toEqual(expected);
    expect(await matches(`Encounter?date=${value}&status=in-progress`)).toEqual(expected);
  });
});

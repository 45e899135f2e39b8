/**
 * The benchmark's raw-SQL baseline routes answer with the same rows as fhirgraph's REST and
 * GraphQL answers on the same data, and refuse any request without the bench secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH_WRITE_SYSTEM, removeBenchWrites } from '../../bench/lib/bench-database.ts';
import { rawSqlBaseline } from '../../bench/raw-sql-baseline.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const SECRET = 'a-bench-secret-of-at-least-32-characters';
const NESTED = '{ PatientList(_count: 50) { name { family } ObservationList(_reference: subject) { code { text } performer { resource { ... on Practitioner { name { family } } } } } } }';
let t: TestServer;
const patients: string[] = [];

async function raw(path: string, init: { method?: string; body?: string; secret?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.secret !== null) headers['x-bench-secret'] = init.secret ?? SECRET;
  const res = await fetch(`${t.url}/_bench/raw/${path}`, { method: init.method ?? 'GET', body: init.body, headers });
  return { status: res.status, body: await res.json() as any };
}

async function create(resource: Record<string, unknown>): Promise<string> {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

beforeAll(async () => {
  t = await startTestServer({}, undefined, undefined, [rawSqlBaseline(SECRET)]);
  const practitioners = [await create({ resourceType: 'Practitioner', name: [{ family: 'Osler' }] }), await create({ resourceType: 'Practitioner', name: [{ family: 'Curie' }] })];
  for (const [i, family] of ['Smith', 'Smithers', 'Jones'].entries()) {
    const id = await create({ resourceType: 'Patient', name: [{ family, given: ['Ann'] }] });
    patients.push(id);
    for (let n = 0; n < 3; n++) {
      await create({
        resourceType: 'Observation', status: 'final', effectiveDateTime: `202${n}-06-01`,
        code: { coding: [{ system: 'http://loinc.org', code: n === 2 ? '8310-5' : '8867-4' }], text: `obs ${i}.${n}` },
        subject: { reference: `Patient/${id}` }, performer: [{ reference: `Practitioner/${practitioners[(i + n) % 2]}` }],
      });
    }
  }
}, 60_000);
afterAll(async () => { await t?.close(); });

const ids = (bundle: any) => (bundle.entry ?? []).map((e: any) => e.resource.id);

describe('raw-SQL baseline routes', () => {
  it('refuse a request without the secret or with a wrong one', async () => {
    expect((await raw(`Patient/${patients[0]}`, { secret: null })).status).toBe(401);
    expect((await raw(`Patient/${patients[0]}`, { secret: SECRET.replace('a', 'b') })).status).toBe(401);
  });

  it('read by id gives the resource fhirgraph serves', async () => {
    const fhir = await fhirFetch(`${t.url}/fhir/Patient/${patients[1]}`);
    const res = await raw(`Patient/${patients[1]}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(fhir.body);
    expect((await raw('Patient/nope')).status).toBe(404);
  });

  it('searches give the same page of resources', async () => {
    const byName = await raw('Patient?name=smi');
    expect(ids(byName.body)).toEqual(ids((await fhirFetch(`${t.url}/fhir/Patient?name=smi`)).body));
    expect(ids(byName.body)).toHaveLength(2);
    const query = `subject=Patient/${patients[0]}&code=http://loinc.org|8867-4&date=ge2021-01-01`;
    const observations = await raw(`Observation?${query}`);
    expect(ids(observations.body)).toEqual(ids((await fhirFetch(`${t.url}/fhir/Observation?${query}`)).body));
    expect(ids(observations.body)).toHaveLength(1);
  });

  it('nested gives the data of the GraphQL nested query', async () => {
    const graph = await fhirFetch(`${t.url}/graphql`, { method: 'POST', body: JSON.stringify({ query: NESTED }), headers: { 'content-type': 'application/json' } });
    expect(graph.body.errors).toBeUndefined();
    const res = await raw('nested?count=50', { method: 'POST', body: '{}' });
    expect(res.body.data.PatientList).toHaveLength(3);
    expect(res.body.data).toEqual(graph.body.data);
  });

  it('create stores a Patient that fhirgraph reads back', async () => {
    const res = await raw('Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Raw' }] }) });
    expect(res.status).toBe(201);
    const read = await fhirFetch(`${t.url}/fhir/Patient/${res.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.name).toEqual([{ family: 'Raw' }]);
  });

  it('removeBenchWrites deletes the Patients that write workloads created, and nothing else', async () => {
    const bench = { resourceType: 'Patient', name: [{ family: 'Benchwrite' }], identifier: [{ system: BENCH_WRITE_SYSTEM, value: 'b-1' }] };
    const viaRest = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: bench });
    const viaRaw = await raw('Patient', { method: 'POST', body: JSON.stringify(bench) });
    expect([viaRest.status, viaRaw.status]).toEqual([201, 201]);
    expect(await removeBenchWrites(t.databaseUrl)).toBe(2);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${viaRest.body.id}`)).status).toBe(404);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${viaRaw.body.id}`)).status).toBe(404);
    expect((await fhirFetch(`${t.url}/fhir/Patient?name=benchwrite`)).body.entry ?? []).toEqual([]);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${patients[0]}`)).status).toBe(200);
  });
});

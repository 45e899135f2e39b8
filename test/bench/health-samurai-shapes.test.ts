/**
 * The Health Samurai shapes of `npm run bench` (bench/health-samurai) against a real server and
 * database: every request of the CRUD mix, the search mix and the Bundle load is answered 2xx,
 * the CRUD mix leaves nothing behind, and what the Bundle load stores is removed by
 * `removeBenchWrites` after the run. Counts only; no timings are asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH_WRITE_SYSTEM, removeBenchWrites } from '../../bench/lib/bench-database.ts';
import { runScenario, type ScenarioClient } from '../../bench/lib/scenario-load.ts';
import { buildWorkloads } from '../../bench/lib/workloads.ts';
import { WORKLOAD_IDS } from '../../bench/lib/bench-args.ts';
import { bundleLoadScenario, prepareBundles } from '../../bench/health-samurai/bundle-load.ts';
import { crudMixScenario } from '../../bench/health-samurai/crud-mix.ts';
import { sampleSearchMixValues, searchMixScenario, searchMixSpecs } from '../../bench/health-samurai/search-mix.ts';
import { generateBundles, planSeed, serializeBundle } from '../../scripts/seed/generate-bundles.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const SCALE = 300;
let t: TestServer;

/** A client that records every answer, for iterations outside the timed loop. */
function recordingClient(headers: Record<string, string>) {
  const answers: { method: string; path: string; status: number; body: string }[] = [];
  const client = {
    answers,
    resources: 0,
    async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: string) {
      const res = await fetch(`${t.url}${path}`, { method, body, headers });
      const answer = { status: res.status, body: await res.text() };
      answers.push({ method, path, ...answer });
      return answer;
    },
    countResources(n: number) { client.resources += n; },
  } satisfies ScenarioClient & Record<string, unknown>;
  return client;
}

async function countTagged(): Promise<number> {
  const res = await fhirFetch(`${t.url}/fhir/Patient?_tag=${encodeURIComponent(`${BENCH_WRITE_SYSTEM}|`)}&_summary=count`);
  return res.body.total;
}

beforeAll(async () => {
  t = await startTestServer();
  for (const { bundle } of generateBundles(planSeed({ scale: SCALE, seed: 1, bundleSize: 100 }))) {
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: serializeBundle(bundle) });
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200);
  }
}, 120_000);
afterAll(async () => { await t?.close(); });

describe('Health Samurai CRUD mix', () => {
  it('creates, reads, updates and deletes nine resource types, every answer 2xx', async () => {
    const scenario = crudMixScenario(t.adminToken);
    const client = recordingClient(scenario.headers);
    await scenario.iteration(client, 0, 0);
    const failed = client.answers.filter((a) => a.status < 200 || a.status > 299).map((a) => `${a.method} ${a.path} ${a.status} ${a.body.slice(0, 400)}`);
    expect(failed).toEqual([]);
    expect(client.answers.map((a) => a.method)).toEqual([...Array(9).fill('POST'), ...Array(9).fill('GET'), ...Array(9).fill('PUT'), ...Array(9).fill('DELETE')]);
    const created = client.answers.slice(0, 9).map((a) => JSON.parse(a.body));
    expect(created.map((r) => r.resourceType)).toEqual(['Patient', 'Location', 'Organization', 'Practitioner', 'Encounter', 'Observation', 'MedicationRequest', 'Claim', 'ExplanationOfBenefit']);
    expect(created[4].subject.reference).toBe(`Patient/${created[0].id}`);
    // The update changed what it says it changes, and the deletes took: the reads now answer 410.
    const put = JSON.parse(client.answers.find((a) => a.method === 'PUT' && a.path.includes('/Encounter/'))!.body);
    expect([put.status, put.meta.versionId]).toEqual(['planned', '2']);
    for (const r of created) expect((await fhirFetch(`${t.url}/fhir/${r.resourceType}/${r.id}`)).status).toBe(410);
  }, 60_000);

  it('runs with concurrent virtual users, counting 2xx answers and nothing failed', async () => {
    const figures = await runScenario(t.url, crudMixScenario(t.adminToken), 2, 2);
    expect(figures).toMatchObject({ non2xx: 0, errors: 0 });
    expect(figures.requestsPerSecond).toBeGreaterThan(0);
    expect(figures.p99Ms).toBeGreaterThanOrEqual(figures.p50Ms);
    expect(await countTagged()).toBe(0);
  }, 60_000);
});

describe('Health Samurai search mix', () => {
  it('draws its values from the data and runs every search kind with _count=20, every answer 200', async () => {
    const values = await sampleSearchMixValues(t.databaseUrl);
    expect(values.organizationNames.length).toBeGreaterThan(0);
    expect(searchMixSpecs(values).map((s) => `${s.type}?${s.param}`)).toEqual([
      'Patient?name', 'Patient?address', 'Organization?name', 'Patient?birthdate', 'Observation?date', 'Encounter?date', 'Observation?category',
    ]);
    const scenario = searchMixScenario(t.adminToken, values);
    const client = recordingClient(scenario.headers);
    for (let n = 0; n < 12; n++) await scenario.iteration(client, 0, n);
    expect(client.answers.filter((a) => a.status !== 200).map((a) => `${a.path} ${a.status} ${a.body.slice(0, 300)}`)).toEqual([]);
    expect(client.answers.every((a) => a.path.endsWith('&_count=20'))).toBe(true);
    expect(client.answers.some((a) => a.path.includes(':contains='))).toBe(true);
    // Some searches find resources, and the one looking for a name no one has finds none.
    expect(client.answers.some((a) => (JSON.parse(a.body).entry ?? []).length > 0)).toBe(true);
    const none = await fhirFetch(`${t.url}/fhir/Patient?name=NON-EXISTS&_count=20`);
    expect(none.body.entry ?? []).toEqual([]);
  }, 60_000);
});

describe('Health Samurai Bundle load', () => {
  it('stores transaction Bundles of new families (answered 200), which removeBenchWrites removes', async () => {
    const bundles = prepareBundles(SCALE, 18, 2);
    expect(bundles).toHaveLength(2);
    const scenario = bundleLoadScenario(t.adminToken, bundles);
    const client = recordingClient(scenario.headers);
    await scenario.iteration(client, 0, 0);
    await scenario.iteration(client, 0, 1);
    expect(client.answers.map((a) => a.status)).toEqual([200, 200]);
    expect(client.resources).toBe(bundles[0].entries + bundles[1].entries);
    const patients = bundles.reduce((n, b) => n + (b.body.match(/"resourceType":"Patient"/g) ?? []).length, 0);
    expect(await countTagged()).toBe(patients);
    expect(await removeBenchWrites(t.databaseUrl)).toBe(client.resources);
    expect(await countTagged()).toBe(0);
  }, 60_000);
});

describe('workload ids', () => {
  it('--only knows every workload the bench builds', () => {
    const ids = buildWorkloads({
      fhirgraph: 'http://a', postgraphile: { origin: 'http://b', query: '{}' }, minimal: { origin: 'http://c' }, token: 't', benchSecret: 's',
      searchMix: { patientNames: ['a'], cities: ['b'], organizationNames: ['c'], birthDates: ['2000-01-01'], observationDates: ['2020-01-01'], encounterDates: ['2020-01-01'] },
      bundles: [], patientIds: ['p'], namePrefixes: ['smi'], observationQueries: ['subject=Patient/p'],
    }).map((w) => w.id);
    expect(ids).toEqual(expect.arrayContaining(['read-minimal', 'crud-mix', 'search-mix', 'bundle-load']));
    expect(ids.filter((id) => !(WORKLOAD_IDS as readonly string[]).includes(id))).toEqual([]);
  });
});

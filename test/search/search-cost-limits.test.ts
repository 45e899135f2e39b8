/**
 * Issue 14 item 4, "unbounded searches take the pool": 1,000 `_sort` keys (62 s on 6 Patients),
 * 200 AND-ed criteria (39 s) and their kin held PostgreSQL connections for a minute while every
 * other client waited. A search over the documented limits is now refused with 400 before any SQL
 * runs — under lenient handling too, since the limits are about cost, not unknown parameters —
 * and other clients are answered meanwhile.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let patientId: string;
const limits = DEFAULT_LIMITS.search;
/** A client aborts a request after this long: a hostile search that still runs fails its test fast. */
const PATIENCE_MS = 10_000;

beforeAll(async () => {
  t = await startTestServer();
  for (let i = 0; i < 6; i++) {
    const res = await fhirFetch(`${t.url}/fhir/Patient`, {
      method: 'POST', body: { resourceType: 'Patient', name: [{ family: `Family${i}`, given: ['Ann'] }], birthDate: `1970-01-0${i + 1}`, gender: 'female' },
    });
    patientId = res.body.id;
  }
});
afterAll(async () => { await t?.close(); });

const search = (query: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) =>
  fetch(`${t.url}/fhir/Patient${init.method === 'POST' ? '/_search' : ''}${query}`, {
    method: init.method ?? 'GET', body: init.body, signal: AbortSignal.timeout(PATIENCE_MS),
    headers: { authorization: `Bearer ${t.adminToken}`, ...init.headers },
  }).then(async (res) => ({ status: res.status, body: await res.json() as any }));

function expectTooCostly(res: { status: number; body: any }) {
  expect(res.status).toBe(400);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue[0].code).toBe('too-costly');
}

const repeat = (n: number, make: (i: number) => string, sep = '&') => Array.from({ length: n }, (_, i) => make(i)).join(sep);

describe('a search over the cost limits is refused with 400, lenient or strict', () => {
  it('refuses 1,000 _sort keys (they held a connection for 62 s)', async () => {
    expectTooCostly(await search(`?_sort=${repeat(1000, () => 'birthdate', ',')}`));
    expectTooCostly(await search(`?${repeat(limits.maxSort + 1, () => '_sort=-birthdate')}`));
    expect((await search(`?_sort=${repeat(limits.maxSort, () => 'birthdate', ',')}`)).status).toBe(200);
  });

  it('refuses 200 AND-ed criteria (they held a connection for 39 s)', async () => {
    expectTooCostly(await search(`?${repeat(200, (i) => `name=Family${i % 6}`)}`));
    expectTooCostly(await search(`?${repeat(limits.maxCriteria + 1, () => 'gender=female')}`, { headers: { prefer: 'handling=strict' } }));
    expect((await search(`?${repeat(limits.maxCriteria, () => 'gender=female')}`)).status).toBe(200);
  });

  it('refuses more OR-ed values in one parameter than SEARCH_MAX_VALUES', async () => {
    expectTooCostly(await search(`?name=${repeat(limits.maxValues + 1, (i) => `x${i}`, ',')}`));
    expectTooCostly(await search(`?_id=${repeat(1000, (i) => `id${i}`, ',')}`));
    expectTooCostly(await search(`?general-practitioner.name=${repeat(limits.maxValues + 1, (i) => `x${i}`, ',')}`));
    expect((await search(`?_id=${repeat(limits.maxValues, (i) => `id${i}`, ',')}`)).status).toBe(200);
  });

  it('refuses more _elements names than SEARCH_MAX_VALUES (each is tested against every returned element)', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expectTooCostly(await search('', { method: 'POST', body: `_elements=${repeat(limits.maxValues + 1, (i) => `e${i}`, ',')}`, headers: form }));
    expect((await search(`?_elements=${repeat(limits.maxValues, () => 'name', ',')},birthDate`)).status).toBe(200);
  });

  it('counts each target type a chain or _has expands to as a criterion', async () => {
    // `link.name` expands to Patient and RelatedPerson (3 criteria); `_has` costs 2.
    const chained = repeat(Math.floor(limits.maxCriteria / 3) + 1, () => 'link.name=x');
    expectTooCostly(await search(`?${chained}`));
    expectTooCostly(await search(`?${repeat(limits.maxCriteria / 2 + 1, () => '_has:Observation:subject:code=x')}`));
    expect((await search('?link.name=x&_has:Observation:subject:code=x')).status).toBe(200);
  });

  it('refuses more _include and _revinclude parameters than SEARCH_MAX_INCLUDES', async () => {
    const includes = repeat(limits.maxIncludes + 1, (i) => (i % 2 ? '_include=Patient:general-practitioner' : '_revinclude=Observation:subject'));
    expectTooCostly(await search(`?${includes}`));
    expect((await search(`?${repeat(limits.maxIncludes, () => '_include=Patient:general-practitioner')}`)).status).toBe(200);
  });

  it('refuses more parameters than SEARCH_MAX_PARAMS in a POST _search body, even unknown ones under lenient handling (100,000 are over MAX_FORM_BODY: 413)', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expectTooCostly(await search('', { method: 'POST', body: repeat(limits.maxParams + 1, (i) => `unknown${i}=x`), headers: form }));
    expectTooCostly(await search(`?${repeat(limits.maxParams + 1, (i) => `unknown${i}=x`)}`));
    expect((await search('', { method: 'POST', body: repeat(100_000, (i) => `unknown${i}=x`), headers: form })).status).toBe(413);
  });
});

describe('hostile searches leave the server responsive', () => {
  it('answers another client within 1 s while hostile searches arrive, the event loop never stalling 200 ms', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const hostile: (() => Promise<unknown>)[] = [
      () => search(`?_sort=${repeat(1000, () => 'birthdate', ',')}`),
      () => search(`?${repeat(200, (i) => `name=Family${i % 6}`)}`),
      () => search('', { method: 'POST', body: repeat(100_000, (i) => `name=x${i}`), headers: form }),
      () => search('', { method: 'POST', body: `name=${repeat(100_000, (i) => `x${i}`, ',')}`, headers: form }),
      () => search('', { method: 'POST', body: `_sort=${repeat(50_000, () => '-birthdate', ',')}`, headers: form }),
    ];
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    const attacks = Promise.all(Array.from({ length: 12 }, (_, i) => hostile[i % hostile.length]()));
    const latencies: number[] = [];
    let done = false;
    void attacks.finally(() => { done = true; });
    while (!done || latencies.length < 5) {
      const before = performance.now();
      const res: FhirResponse = await fhirFetch(`${t.url}/fhir/Patient/${patientId}`);
      latencies.push(performance.now() - before);
      expect(res.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const answers = (await attacks) as { status: number }[];
    delay.disable();
    // 400 over a search limit, 413 for the form bodies over MAX_FORM_BODY.
    expect(answers.map((a) => a.status)).toEqual(answers.map((a) => (a.status === 413 ? 413 : 400)));
    expect(Math.max(...latencies)).toBeLessThan(1000);
    expect(performance.now() - started).toBeLessThan(PATIENCE_MS);
    expect(delay.max / 1e6).toBeLessThan(200);
  });
});

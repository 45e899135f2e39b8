/**
 * Search coverage through the query side (DECISIONS §5): for every R4 (resource type, search
 * parameter) pair with an expression, the synthetic fixture and its near-miss are stored on a real
 * server, a search built from the fixture's own index rows for that parameter
 * (`search-query-for-row.ts`) is sent as `GET /fhir/{type}?{param}={value}&_id={fixture},{nearMiss}`,
 * and the pair counts as covered only when the fixture is found and the near-miss is not. `_id` is
 * searched on its own. Pairs the query syntax cannot express are listed with a reason in
 * `search-param-query-unsupported.json`; every other pair must be covered. A second pass searches
 * the first example of the R4 corpus that holds a value for each pair by that value.
 * https://hl7.org/fhir/R4/search.html
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'lossless-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';
import { parseFhirJson } from '../../src/fhir/fhir-json.ts';
import { extractIndexRows, type IndexRow } from '../../src/search/extract-index-rows.ts';
import type { SyntheticFixture } from '../helpers/synthetic-fixtures/build-synthetic-fixtures.ts';
import { listExampleResources, type ExampleResource } from '../helpers/examples-corpus.ts';
import { searchQueryForRow } from '../helpers/search-query-for-row.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

type Res = Record<string, unknown>;

interface Unsupported { resourceType: string; param: string; reason: string }

/** One synthetic fixture as stored: the server's ids and the index rows of the resources read back. */
interface StoredFixture {
  source: SyntheticFixture;
  fixtureId: string;
  nearMissId: string;
  fixtureRows: IndexRow[];
  nearMissRows: IndexRow[];
}

/** The outcome of one pair's search. */
interface PairResult {
  pair: string;
  covered: boolean;
  query?: string;
  detail?: string;
}

const SYNTHETIC_PATH = fileURLToPath(new URL('../fixtures/search-param-synthetic.json', import.meta.url));
const UNSUPPORTED_PATH = fileURLToPath(new URL('../fixtures/search-param-query-unsupported.json', import.meta.url));
const INVALID_EXAMPLES_PATH = fileURLToPath(new URL('../fixtures/invalid-examples.json', import.meta.url));
const CONCURRENCY = 8;

const model = loadFhirModel();
const synthetic = JSON.parse(readFileSync(SYNTHETIC_PATH, 'utf8')) as SyntheticFixture[];
const unsupported = JSON.parse(readFileSync(UNSUPPORTED_PATH, 'utf8')) as Unsupported[];

let t: TestServer;
const results = new Map<string, PairResult>();
let elapsedMs = 0;

/** Every pair of the denominator, as `Type.code`. */
function allPairs(): string[] {
  return model.resourceTypes.flatMap((rt) => model.getSearchParams(rt).filter((sp) => sp.expression).map((sp) => `${rt}.${sp.code}`));
}

function listedReason(pair: string): string | undefined {
  const dot = pair.indexOf('.');
  const [rt, code] = [pair.slice(0, dot), pair.slice(dot + 1)];
  return unsupported.find((u) => (u.resourceType === rt || u.resourceType === '*') && u.param === code)?.reason;
}

/** Runs `task` over `items` with at most `limit` in flight, keeping the order of results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Creates `resources` in one batch Bundle; their ids in order (undefined where a create failed). */
async function tryCreateAll(resources: readonly Res[]): Promise<(string | undefined)[]> {
  const bundle = {
    resourceType: 'Bundle', type: 'batch',
    entry: resources.map((resource) => ({ request: { method: 'POST', url: resource.resourceType }, resource })),
  };
  // lossless-json keeps the exact digits of example decimals
  const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: stringify(bundle)!, headers: { prefer: 'return=minimal' } });
  expect(res.status, res.text.slice(0, 2000)).toBe(200);
  return (res.body.entry as { response: { status: string; location?: string } }[])
    .map(({ response }) => (response.status.startsWith('201') && response.location ? response.location.split('/')[1] : undefined));
}

/** Creates `resources` in one batch Bundle and returns their ids, in order; throws if one fails. */
async function createAll(resources: readonly Res[]): Promise<string[]> {
  const ids = await tryCreateAll(resources);
  const failed = ids.flatMap((id, i) => (id ? [] : [String(resources[i].resourceType)]));
  if (failed.length > 0) throw new Error(`creating these synthetic fixtures failed: ${failed.join(', ')}`);
  return ids as string[];
}

/** Reads a resource back, keeping decimals exact (as the server's indexer sees them). */
async function readBack(resourceType: string, id: string): Promise<Res> {
  // As a FHIR client asks (a Binary read without it answers its raw bytes).
  const res = await fhirFetch(`${t.url}/fhir/${resourceType}/${id}`, { headers: { accept: 'application/fhir+json' } });
  expect(res.status, res.text.slice(0, 500)).toBe(200);
  return parseFhirJson(res.text) as Res;
}

async function storeFixtures(): Promise<StoredFixture[]> {
  const fixtureIds = await createAll(synthetic.map((f) => f.fixture));
  // A later request, so `_lastUpdated` differs between each fixture and its near-miss.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const nearMissIds = await createAll(synthetic.map((f) => f.nearMiss));
  return mapLimit(synthetic, CONCURRENCY, async (source, i) => {
    const [fixture, nearMiss] = await Promise.all([
      readBack(source.resourceType, fixtureIds[i]), readBack(source.resourceType, nearMissIds[i]),
    ]);
    const baseUrl = t.fhirBase;
    return {
      source, fixtureId: fixtureIds[i], nearMissId: nearMissIds[i],
      fixtureRows: extractIndexRows(fixture, { baseUrl }), nearMissRows: extractIndexRows(nearMiss, { baseUrl }),
    };
  });
}

/** The ids a search returns as matches, or the error it answers with. */
async function searchIds(resourceType: string, params: [string, string][]): Promise<{ query: string; ids?: string[]; error?: string }> {
  const query = `${resourceType}?${new URLSearchParams(params).toString()}`;
  const res = await fhirFetch(`${t.url}/fhir/${query}`, { headers: { prefer: 'handling=strict' } });
  if (res.status !== 200) {
    const diagnostics = (res.body?.issue as { diagnostics?: string }[] | undefined)?.map((i) => i.diagnostics).join('; ');
    return { query, error: `${res.status} ${diagnostics ?? res.text.slice(0, 300)}` };
  }
  const entries = (res.body.entry ?? []) as { resource: { id: string }; search?: { mode?: string } }[];
  return { query, ids: entries.filter((e) => e.search?.mode !== 'include' && e.search?.mode !== 'outcome').map((e) => e.resource.id) };
}

/** The first row of `param` on the fixture that the near-miss lacks (else the first row). */
function rowFor(stored: StoredFixture, param: string): IndexRow | undefined {
  const rows = stored.fixtureRows.filter((r) => r.param === param);
  const missed = new Set(stored.nearMissRows.filter((r) => r.param === param).map((r) => JSON.stringify(r)));
  return rows.find((r) => !missed.has(JSON.stringify(r))) ?? rows[0];
}

function judge(pair: string, stored: StoredFixture, found: { query: string; ids?: string[]; error?: string }): PairResult {
  if (found.error) return { pair, covered: false, query: found.query, detail: found.error };
  const ids = found.ids ?? [];
  const hasFixture = ids.includes(stored.fixtureId);
  const hasNearMiss = ids.includes(stored.nearMissId);
  if (hasFixture && !hasNearMiss) return { pair, covered: true, query: found.query };
  const detail = [!hasFixture && 'fixture not found', hasNearMiss && 'near-miss found'].filter(Boolean).join(', ');
  return { pair, covered: false, query: found.query, detail };
}

async function queryPair(stored: StoredFixture, param: string): Promise<PairResult> {
  const rt = stored.source.resourceType;
  const pair = `${rt}.${param}`;
  const def = model.getSearchParam(rt, param);
  if (!def) return { pair, covered: false, detail: 'no such search parameter in the model' };
  const row = rowFor(stored, param);
  if (!row) return { pair, covered: false, detail: 'the stored fixture has no index row for the parameter' };
  const query = searchQueryForRow(row, def);
  if ('unsupported' in query) return { pair, covered: false, detail: `no query for the row: ${query.unsupported}` };
  const found = await searchIds(rt, [...query.params, ['_id', `${stored.fixtureId},${stored.nearMissId}`], ['_count', '10']]);
  return judge(pair, stored, found);
}

async function queryId(stored: StoredFixture): Promise<PairResult> {
  const pair = `${stored.source.resourceType}._id`;
  return judge(pair, stored, await searchIds(stored.source.resourceType, [['_id', stored.fixtureId], ['_count', '10']]));
}

beforeAll(async () => {
  const started = performance.now();
  t = await startTestServer();
  const stored = await storeFixtures();
  const tasks: (() => Promise<PairResult>)[] = [];
  const firstOfType = new Map<string, StoredFixture>();
  for (const s of stored) {
    if (!firstOfType.has(s.source.resourceType)) firstOfType.set(s.source.resourceType, s);
    for (const param of s.source.params) tasks.push(() => queryPair(s, param));
  }
  for (const s of firstOfType.values()) tasks.push(() => queryId(s));
  for (const r of await mapLimit(tasks, CONCURRENCY, (task) => task())) results.set(r.pair, r);
  elapsedMs = performance.now() - started;
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe('search by every R4 search parameter', () => {
  it('finds each fixture and misses its near-miss for ≥ 95% of the pairs, listing the rest as unsupported', () => {
    const pairs = allPairs();
    const covered = pairs.filter((p) => results.get(p)?.covered);
    const listed = pairs.filter((p) => !results.get(p)?.covered && listedReason(p));
    const failing = pairs.filter((p) => !results.get(p)?.covered && !listedReason(p))
      .map((p) => `${p}: ${results.get(p)?.detail ?? 'no fixture was searched'}${results.get(p)?.query ? ` — GET ${results.get(p)!.query}` : ''}`);
    console.log(
      `search parameter queries: ${covered.length}/${pairs.length} pairs covered (${((100 * covered.length) / pairs.length).toFixed(1)}%), ` +
      `${listed.length} listed as unsupported, ${failing.length} failing; ${results.size} searches in ${(elapsedMs / 1000).toFixed(1)} s`,
    );
    expect(failing).toEqual([]);
    expect(covered.length / pairs.length).toBeGreaterThanOrEqual(0.95);
  });

  it('lists as unsupported only pairs that exist, fail, and have a reason', () => {
    const pairs = new Set(allPairs());
    for (const u of unsupported) {
      const pair = `${u.resourceType}.${u.param}`;
      expect(u.resourceType === '*' || pairs.has(pair), pair).toBe(true);
      expect(u.reason.length, pair).toBeGreaterThan(10);
      expect(results.get(pair)?.covered, `${pair} is covered now: remove it from the list`).toBe(false);
    }
  });
});

/** One example search: the pair, the example, and whether the search found the stored example. */
interface ExampleProbe { pair: string; example: string; found: boolean; query?: string; detail?: string }

/** Examples larger than this are not chosen (the 35 MB `Bundle-resources.json` would be refused with 413). */
const MAX_EXAMPLE_BYTES = 1_000_000;

/**
 * For each pair, the first example of the corpus that yields a row for it (valid examples under
 * {@link MAX_EXAMPLE_BYTES} only), with its serialised text.
 */
function examplesByPair(): Map<string, { example: ExampleResource; text: string }> {
  const invalid = JSON.parse(readFileSync(INVALID_EXAMPLES_PATH, 'utf8')) as { file: string; entry?: number }[];
  const byPair = new Map<string, { example: ExampleResource; text: string }>();
  for (const example of listExampleResources()) {
    if (invalid.some((i) => i.file === example.file && i.entry === example.entry)) continue;
    const rt = String(example.resource.resourceType);
    const fresh = [...new Set(extractIndexRows(example.resource).map((r) => `${rt}.${r.param}`))].filter((pair) => !byPair.has(pair));
    if (fresh.length === 0) continue;
    const text = stringify(example.resource)!;
    if (text.length > MAX_EXAMPLE_BYTES) continue;
    for (const pair of fresh) byPair.set(pair, { example, text });
  }
  return byPair;
}

/** Creates the examples in batch Bundles of about 2 MB, a few at a time; ids in order. */
async function storeExamples(texts: readonly string[]): Promise<(string | undefined)[]> {
  const batches: number[][] = [[]];
  let bytes = 0;
  texts.forEach((text, i) => {
    if (bytes + text.length > 2_000_000 && batches[batches.length - 1].length > 0) [bytes] = [0, batches.push([])];
    batches[batches.length - 1].push(i);
    bytes += text.length;
  });
  const ids: (string | undefined)[] = new Array(texts.length);
  await mapLimit(batches, 4, async (batch) => {
    const created = await tryCreateAll(batch.map((i) => parseFhirJson(texts[i]) as Res));
    batch.forEach((index, k) => { ids[index] = created[k]; });
  });
  return ids;
}

async function probeExample(example: ExampleResource, id: string, params: string[]): Promise<ExampleProbe[]> {
  const rt = String(example.resource.resourceType);
  const rows = extractIndexRows(await readBack(rt, id), { baseUrl: t.fhirBase });
  return mapLimit(params, 1, async (param): Promise<ExampleProbe> => {
    const probe = { pair: `${rt}.${param}`, example: example.name, found: false };
    const row = rows.find((r) => r.param === param);
    const def = model.getSearchParam(rt, param);
    if (!row || !def) return { ...probe, detail: 'the stored example has no index row for the parameter' };
    const query = searchQueryForRow(row, def);
    if ('unsupported' in query) return { ...probe, detail: `no query for the row: ${query.unsupported}` };
    const result = await searchIds(rt, [...query.params, ['_id', id], ['_count', '10']]);
    const found = result.ids?.includes(id) ?? false;
    return { ...probe, query: result.query, found, detail: result.error ?? (found ? undefined : 'example not found') };
  });
}

/**
 * The acceptance's other half: each pair that some example holds a value for is searched on that
 * example (no near-miss exists there, so this checks finding, not coverage), with real-world values
 * (text-only concepts, open periods, identifiers, relative canonicals, exact decimals).
 */
describe('search by the values of the R4 examples', () => {
  const probes: ExampleProbe[] = [];

  beforeAll(async () => {
    const started = performance.now();
    const byPair = examplesByPair();
    const chosen = [...new Map([...byPair.values()].map((v) => [v.example, v.text])).entries()];
    const paramsOf = new Map<ExampleResource, string[]>();
    for (const [pair, { example }] of byPair) paramsOf.set(example, [...(paramsOf.get(example) ?? []), pair.slice(pair.indexOf('.') + 1)]);
    const ids = await storeExamples(chosen.map(([, text]) => text));
    const work = chosen.flatMap(([example], i) => (ids[i] ? [{ example, id: ids[i]! }] : []));
    const refused = chosen.filter((_, i) => !ids[i]).map(([example]) => example.name);
    for (const list of await mapLimit(work, CONCURRENCY, ({ example, id }) => probeExample(example, id, paramsOf.get(example)!))) probes.push(...list);
    console.log(
      `example searches: ${probes.filter((p) => p.found).length}/${probes.length} pairs found on ${work.length} stored examples ` +
      `(${refused.length} refused by create${refused.length ? `: ${refused.join(', ')}` : ''}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 180_000);

  it('finds the example that holds a value by the first value of each of its parameters', () => {
    const failing = probes.filter((p) => !p.found && !listedReason(p.pair))
      .map((p) => `${p.pair} (${p.example}): ${p.detail}${p.query ? ` — GET ${p.query}` : ''}`);
    expect(failing).toEqual([]);
  });
});

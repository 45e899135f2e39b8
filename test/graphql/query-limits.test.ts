/**
 * GraphQL query limits (issue 14, "no single request from any client may stall the server"):
 * hostile documents are refused before validation, quickly and without blocking the event loop
 * (the server runs in this process, so `monitorEventLoopDelay` sees its loop); the cost is
 * computed with the operation's actual variables and counts every list-producing argument; an
 * operation is charged to its client's rate limit by the work it may do, before it runs.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const ids: Record<string, string> = {};

/** Well under a second for the answer; the loop never blocked for as long as a GC pause or two. */
const QUICK_MS = 1_000;
const LOOP_MS = 100;
/** A document's first (cold) attempt may not block the loop longer than issue 14 allows anyone. */
const COLD_LOOP_MS = 200;

async function gql(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<FhirResponse> {
  return fhirFetch(`${t.url}/graphql`, { method: 'POST', body: JSON.stringify({ query, variables }), headers: { 'content-type': 'application/json' }, token });
}

/**
 * Sends a request three times (each text differs by a comment, so Apollo parses and validates
 * each). The first attempt is the document's cold one (the server was warmed in `beforeAll` with
 * other documents, never this one): it must not block the event loop beyond {@link COLD_LOOP_MS},
 * so a first-hit stall fails here (review #10: keeping only the best of three hid one). It reports
 * the best answer time and the best worst-delay of the event loop: a block in the server shows
 * every time, the scheduling noise of a busy machine rarely three times.
 */
async function timed(query: string, variables: Record<string, unknown> = {}, token?: string) {
  let best = { res: undefined as unknown as FhirResponse, ms: Infinity, loopMs: Infinity };
  let first = { ms: 0, loopMs: 0 };
  for (let attempt = 0; attempt < 3; attempt++) {
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const started = performance.now();
    const res = await gql(`${query}\n# attempt ${attempt}`, variables, token);
    const ms = performance.now() - started;
    histogram.disable();
    if (attempt === 0) first = { ms, loopMs: histogram.max / 1e6 };
    best = { res, ms: Math.min(best.ms, ms), loopMs: Math.min(best.loopMs, histogram.max / 1e6) };
  }
  console.info(`[limits] first ${first.ms.toFixed(1)} ms, event loop ${first.loopMs.toFixed(1)} ms; best ${best.ms.toFixed(1)} ms, event loop ${best.loopMs.toFixed(1)} ms: ${query.slice(0, 60).replace(/\s+/g, ' ')}…`);
  expect(first.loopMs, `the first (cold) attempt's event-loop block (ms): ${query.slice(0, 60)}`).toBeLessThan(COLD_LOOP_MS);
  return { ...best, first };
}

function expectRefused(res: FhirResponse, code: string, text: RegExp) {
  expect(res.body?.errors?.[0]?.extensions?.code, JSON.stringify(res.body)?.slice(0, 500)).toBe(code);
  expect(res.body.errors[0].message).toMatch(text);
  expect(res.body.data ?? null).toBeNull();
}

function aliases(n: number, field: string): string {
  return `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
}

/** `n` fragments, each spreading the next twice; the last selects `leaf`. */
function fanOut(n: number, leaf: string, type = 'Patient'): string {
  const fragments = Array.from({ length: n }, (_, i) => (i === n - 1 ? `fragment F${i} on ${type} { ${leaf} }` : `fragment F${i} on ${type} { ...F${i + 1} ...F${i + 1} }`));
  return fragments.join('\n');
}

async function create(key: string, resource: Record<string, unknown>) {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  ids[key] = res.body.id;
}

/** SEARCH_MAX_INCLUDED above its default, so the cost shows it uses the setting (review #11). */
const MAX_INCLUDED = 2_000;

beforeAll(async () => {
  t = await startTestServer({ limits: { ...DEFAULT_LIMITS, search: { ...DEFAULT_LIMITS.search, maxIncluded: MAX_INCLUDED } } });
  await create('prac', { resourceType: 'Practitioner', name: [{ family: 'Osler' }] });
  await create('patient', { resourceType: 'Patient', name: [{ family: 'Limits' }], generalPractitioner: [{ reference: `Practitioner/${ids.prac}` }] });
  await create('obs', { resourceType: 'Observation', status: 'final', code: { text: 'hr' }, subject: { reference: `Patient/${ids.patient}` } });
  // Warm the schema, the loaders and graphql-js's parsing, validation and cost code once for the
  // whole file (never with a document a test times), so each test's first attempt is its own cold one.
  await warmUp();
}, 60_000);
afterAll(async () => { await t?.close(); });

/** Documents of every shape the tests send, small: aliases, merged fields, fragments, refusals. */
async function warmUp(): Promise<void> {
  expect((await gql('{ PatientList(_count: 1) { id ObservationList(_reference: subject) { id } } }')).body.errors).toBeUndefined();
  const merged = Array(5).fill('PatientList(_count: 1, name: "w") { id link { other { id } } }').join(' ');
  expect((await gql(`{ ${merged} ${aliases(5, 'PatientConnection(_count: 1) { count }').slice(1, -1)} }`)).body.errors).toBeUndefined();
  const fragments = Array.from({ length: 5 }, (_, i) => `fragment W${i} on Patient { ObservationList(_reference: subject, _count: ${i}) { id } }`).join('\n');
  await gql(`{ PatientList(_count: 1) { ${Array.from({ length: 5 }, (_, i) => `...W${i}`).join(' ')} } }\n${fragments}`);
  await gql(`{ PatientList(_count: 1) { ...V0 } }\n${fanOut(4, 'id').replaceAll('F', 'V')}`);
  await gql(aliases(200, '__typename'));
}

describe('document caps, checked before validation', () => {
  it('refuses 1,000 aliases of a _total: accurate count with BAD_USER_INPUT, before running any, in well under a second', async () => {
    // Selecting `count` asks for `_total: accurate`.
    const query = aliases(1_000, 'PatientConnection { count }');
    const { res, ms, loopMs } = await timed(query);
    expect(res.status).toBe(400);
    expectRefused(res, 'BAD_USER_INPUT', /1000 aliases; the limit is 100/);
    expect(ms).toBeLessThan(QUICK_MS);
    expect(loopMs).toBeLessThan(LOOP_MS);
  });

  it('refuses 10,000 aliases quickly, without blocking the event loop', async () => {
    // Ten thousand aliases cannot fit in 10,000 tokens: the parser stops first.
    const { res, ms, loopMs } = await timed(aliases(10_000, '__typename'));
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/more tha[nt] 10000 tokens/);
    expect(ms).toBeLessThan(QUICK_MS);
    expect(loopMs).toBeLessThan(LOOP_MS);
  });

  it('refuses a document of more than GRAPHQL_MAX_TOKENS tokens quickly (1 MB of tokens, within MAX_RESOURCE_BODY)', async () => {
    const query = `{ PatientList { ${'id '.repeat(340_000)} } }`;
    const { res, ms, loopMs } = await timed(query);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/more tha[nt] 10000 tokens/);
    expect(ms).toBeLessThan(QUICK_MS);
    expect(loopMs).toBeLessThan(LOOP_MS);
  });

  it('refuses a document of more than GRAPHQL_MAX_SELECTIONS selections', async () => {
    const { res, ms, loopMs } = await timed(`{ PatientList { ${'gender '.repeat(2_000)} } }`);
    expectRefused(res, 'BAD_USER_INPUT', /has 2001 selections .*the limit is 500/);
    expect(ms).toBeLessThan(QUICK_MS);
    expect(loopMs).toBeLessThan(LOOP_MS);
  });

  it('refuses selections nested far deeper than the depth limit, quickly', async () => {
    const inline = `{ PatientList { ${'... on Patient { '.repeat(400)} id ${'} '.repeat(400)} } }`;
    const nested = await timed(inline);
    expectRefused(nested.res, 'BAD_USER_INPUT', /nests selections 402 levels deep/);
    expect(nested.loopMs).toBeLessThan(LOOP_MS);
    const fields = `{ PatientList { ${'link { other { resource { ... on Patient { '.repeat(100)} id ${'} } } } '.repeat(100)} } }`;
    const deep = await timed(fields);
    expectRefused(deep.res, 'BAD_USER_INPUT', /levels deep; the limit is/);
    expect(deep.ms).toBeLessThan(QUICK_MS);
    expect(deep.loopMs).toBeLessThan(LOOP_MS);
  });

  it('validates the most expensive documents within the caps in tens of milliseconds', async () => {
    // graphql-js's OverlappingFieldsCanBeMerged compares every pair of fragments spread in one
    // selection set, printing their arguments: the caps bound the pairs. 100 fragments (the
    // GRAPHQL_MAX_MERGED_FIELDS cap), each selecting ObservationList with other arguments.
    const fragments = Array.from({ length: 100 }, (_, i) => `fragment F${i} on Patient { ObservationList(_reference: subject, _count: ${i}) { id } }`).join('\n');
    const conflicting = `{ PatientList { ${Array.from({ length: 100 }, (_, i) => `...F${i}`).join(' ')} } }\n${fragments}`;
    const { res, ms, loopMs } = await timed(conflicting);
    expect(res.body.errors.map((e: any) => e.message).join('\n')).toMatch(/"ObservationList" conflict because they have differing arguments/);
    expect(ms).toBeLessThan(QUICK_MS);
    expect(loopMs).toBeLessThan(LOOP_MS);
    // 100 aliases of the same name, nested three deep: merged, compared pairwise at each level.
    const same = `{ ${Array.from({ length: 100 }, () => 'a: PatientList(_count: 1) { link { other { id } } }').join(' ')} }`;
    const merged = await timed(same);
    expect(merged.res.body.errors).toBeUndefined();
    expect(merged.ms).toBeLessThan(QUICK_MS);
    expect(merged.loopMs).toBeLessThan(LOOP_MS);
    // 100 identical unaliased searches with arguments (the review's 250 took 275 ms cold).
    const field = 'PatientList(_count: 1, name: "v", family: "f", given: "g") { id }';
    const identical = await timed(`{ ${Array(100).fill(field).join(' ')} }`);
    expect(identical.res.body.errors).toBeUndefined();
    expect(identical.ms).toBeLessThan(QUICK_MS);
    expect(identical.loopMs).toBeLessThan(LOOP_MS);
  });

  it('refuses more than GRAPHQL_MAX_MERGED_FIELDS fields sharing one response name, fragments included, before validation (review #10)', async () => {
    const field = 'PatientList(_count: 1, name: "v", family: "f", given: "g") { id }';
    const identical = await timed(`{ ${Array(250).fill(field).join(' ')} }`);
    expectRefused(identical.res, 'BAD_USER_INPUT', /selects "PatientList" 250 times in one selection set \(fragments included\); the limit is 100/);
    expect(identical.loopMs).toBeLessThan(LOOP_MS);
    const fragments = Array.from({ length: 166 }, (_, i) => `fragment F${i} on Patient { ObservationList(_reference: subject, _count: ${i}) { id } }`).join('\n');
    const spread = await timed(`{ PatientList { ${Array.from({ length: 166 }, (_, i) => `...F${i}`).join(' ')} } }\n${fragments}`);
    expectRefused(spread.res, 'BAD_USER_INPUT', /selects "ObservationList" 166 times/);
    expect(spread.loopMs).toBeLessThan(LOOP_MS);
    // A fragment spread twice in one selection set is collected once, as graphql-js does.
    const fanned = await gql(`{ PatientList(_count: 1) { ...F0 } }\n${fanOut(23, 'id')}`);
    expect(fanned.body.errors).toBeUndefined();
  });
});

describe('cost with the actual variables', () => {
  it('answers a 1 KB query of 23 fragments, each spreading the next twice, in milliseconds', async () => {
    const query = `{ PatientList(_count: 5) { ...F0 } }\n${fanOut(23, 'id')}`;
    expect(query.length).toBeLessThan(1_100);
    const { res, ms, loopMs } = await timed(query);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.PatientList).toContainEqual({ id: ids.patient });
    expect(ms).toBeLessThan(QUICK_MS);
    expect(loopMs).toBeLessThan(LOOP_MS);
  });

  it('costs each fragment once however often it is spread, and refuses a fan-out whose lists multiply', async () => {
    const fragments = Array.from({ length: 23 }, (_, i) => (i === 22
      ? `fragment F${i} on Patient { id }`
      : `fragment F${i} on Patient { ...G${i} ...H${i} }\nfragment G${i} on Patient { ObservationList(_reference: subject, _count: 2) { subject { resource { ...F${i + 1} } } } }\nfragment H${i} on Patient { ...G${i} }`)).join('\n');
    const { res, ms, loopMs } = await timed(`{ PatientList(_count: 1) { ...F0 } }\n${fragments}`);
    expectRefused(res, 'BAD_USER_INPUT', /levels deep|resources; the limit is/);
    expect(ms).toBeLessThan(QUICK_MS);
    expect(loopMs).toBeLessThan(LOOP_MS);
  });

  it('costs _count: $n with the value sent, even when the same text was accepted with a small one', async () => {
    const query = 'query($n: Int) { PatientList(_count: $n) { ObservationList(_reference: subject, _count: $n) { id } } }';
    const small = await gql(query, { n: 2 });
    expect(small.body.errors).toBeUndefined();
    expect(small.body.extensions.cost).toEqual({ resources: 2 + 2 * 2, units: 1 + 1 });
    const large = await gql(query, { n: 1_000 });
    expect(large.status).toBe(400);
    expectRefused(large, 'BAD_USER_INPUT', /1001000 resources; the limit is 10000/);
  });

  it('costs a variable left out at its default value', async () => {
    const res = await gql('query($n: Int = 1000) { PatientList(_count: $n) { ObservationList(_reference: subject, _count: $n) { id } } }');
    expectRefused(res, 'BAD_USER_INPUT', /resources; the limit is 10000/);
  });

  it('refuses a negative _count with BAD_USER_INPUT instead of subtracting it from a sibling, and runs nothing', async () => {
    const query = `query($minus: Int) { a: PatientList(_count: $minus) { id }
      b: PatientList(_count: 1000) { ObservationList(_reference: subject, _count: 1000) { id } } }`;
    const literal = await gql(query.replace('query($minus: Int)', '').replace('$minus', '-1000000'));
    expectRefused(literal, 'BAD_USER_INPUT', /_count must not be negative/);
    const variable = await gql(query, { minus: -1_000_000 });
    expectRefused(variable, 'BAD_USER_INPUT', /_count must not be negative/);
    expect(variable.body.extensions?.statements ?? 0).toBe(0);
  });

  it('costs _revinclude at what it may add, SEARCH_MAX_INCLUDED (the issue\'s 20 patients returned 1,020 edges)', async () => {
    const one = await gql('{ PatientConnection(_count: 20, _revinclude: "Observation:subject") { edges { mode } } }');
    expect(one.body.errors).toBeUndefined();
    expect(one.body.extensions.cost.resources).toBe(20 + MAX_INCLUDED);
    const ten = await gql(aliases(10, 'PatientConnection(_count: 20, _revinclude: "Observation:subject") { edges { mode } }'));
    expectRefused(ten, 'BAD_USER_INPUT', /resources; the limit is 10000/);
  });

  it('costs _include, _total: accurate, count, Reference.resource and _entities', async () => {
    const cost = async (query: string, variables: Record<string, unknown> = {}) => {
      const res = await gql(query, variables);
      expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
      return res.body.extensions.cost;
    };
    expect(await cost('{ PatientConnection(_count: 10, _include: ["Patient:general-practitioner"]) { edges { mode } } }')).toEqual({ resources: 20, units: 2 });
    expect(await cost('{ PatientConnection(_count: 10) { count } }')).toEqual({ resources: 10 + 1_000, units: 2 });
    expect(await cost('{ PatientConnection(_count: 10, _total: "accurate") { edges { mode } } }')).toEqual({ resources: 10 + 1_000, units: 2 });
    // A list ignores _include, _revinclude and _total: it runs one statement and is charged one unit.
    const list = await gql('{ PatientList(_count: 10, _total: "accurate", _revinclude: "Observation:subject") { id } }');
    expect(list.body.extensions).toMatchObject({ cost: { resources: 10, units: 1 }, statements: 1 });
    expect(await cost('{ ObservationList(_count: 10) { subject { resource { id } } } }')).toEqual({ resources: 10 + 10, units: 1 + 1 });
    const representations = Array.from({ length: 30 }, () => ({ __typename: 'Patient', id: ids.patient }));
    expect(await cost('query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id } } }', { r: representations })).toEqual({ resources: 30, units: 1 });
  });

  it('counts introspection toward the cost, and still answers the standard introspection query', async () => {
    const three = await gql(aliases(3, '__schema { types { name } }'));
    expectRefused(three, 'BAD_USER_INPUT', /may select __schema once; this one selects it 3 times/);
    const types = await gql(aliases(11, '__type(name: "Query") { name }'));
    expectRefused(types, 'BAD_USER_INPUT', /may select __type 10 times; this one selects it 11 times/);
    const one = await gql('{ __schema { queryType { name } } }');
    expect(one.body.data.__schema.queryType.name).toBe('Query');
  });
});

describe('rate limits charge the work of an operation', () => {
  it('reports resources and units: PatientList(_count: 50) { ObservationList(_count: 10) } is 2 units, 100 aliased searches 100', async () => {
    const res = await gql('{ PatientList(_count: 50) { ObservationList(_reference: subject, _count: 10) { id } } }');
    expect(res.body.errors).toBeUndefined();
    expect(res.body.extensions.cost).toEqual({ resources: 50 + 50 * 10, units: 2 });
    // The 5,000 aliases ran 5,000 statements as one request: each is a search of its own
    // (GRAPHQL_MAX_ALIASES now stops at 100, which are charged 100).
    const many = await gql(aliases(100, 'PatientList(_count: 1) { id }'));
    expect(many.body.extensions.cost).toEqual({ resources: 100, units: 100 });
    expect(typeof res.body.extensions.statements).toBe('number');
  });

  it('refuses an operation costing more than the client\'s whole minute: 429, TOO_MANY_REQUESTS, too costly, nothing run', async () => {
    const token = await t.tokenWithScope('system/*.rs', { rate: '0/s,10/min' });
    const res = await gql(aliases(15, 'PatientList(_count: 1) { ObservationList(_reference: subject, _count: 1) { id } }'), {}, token);
    expect(res.status).toBe(429);
    expectRefused(res, 'TOO_MANY_REQUESTS', /costs 30 rate-limit units .* limit of 10 per minute; split it/);
    expect(res.body.extensions.statements).toBe(0);
    expect(res.body.extensions.cost).toEqual({ resources: 15 * 2, units: 30 });
    // Refused work is not charged: a small operation still runs.
    const small = await gql('{ PatientList(_count: 1) { id } }', {}, token);
    expect(small.body.errors).toBeUndefined();
  });

  it('charges the units before running: a client allowed 10 a minute runs one 6-unit operation, not a second', async () => {
    const token = await t.tokenWithScope('system/*.rs', { rate: '0/s,10/min' });
    const query = aliases(6, 'PatientList(_count: 1) { id }');
    const first = await gql(query, {}, token);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.extensions.cost.units).toBe(6);
    const second = await gql(query, {}, token);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toMatch(/^\d+$/);
    expectRefused(second, 'TOO_MANY_REQUESTS', /Rate limit exceeded.*this operation costs 6 units/);
    expect(second.body.extensions.statements).toBe(0);
  });
});

describe('errors before and around execution', () => {
  it('answers a forged _cursor with BAD_USER_INPUT, not INTERNAL_SERVER_ERROR', async () => {
    const garbage = await gql('{ PatientConnection(_cursor: "not-a-cursor") { edges { mode } } }');
    expect(garbage.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

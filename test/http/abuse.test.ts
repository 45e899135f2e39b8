/**
 * Issue 14, "Done when": every hostile request that the attack suite found able to stall the
 * server, sent while another client keeps reading. Each is answered with a clear refusal (never a
 * 500), and meanwhile the other client is answered within 1 s, the event loop is never blocked
 * for more than 200 ms and RSS stays under 1 GB. The hostile bodies are built before the
 * bystander starts, so building them does not count against the server.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBystander, type BystanderReport } from '../helpers/bystander.ts';
import { withStringIndexLocked } from '../helpers/string-index-lock.ts';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let t: TestServer;
let patientId: string;
let bystander: { accessToken: string; refreshToken: string; clientId: string };
const reports: [string, BystanderReport][] = [];

/** Sends the attack while the bystander reads, and checks what the bystander saw. */
async function whileOthersRead<T>(name: string, attack: () => Promise<T>): Promise<T> {
  const watch = startBystander({ url: t.url, patientPath: `/fhir/Patient/${patientId}`, ...bystander });
  let result: T;
  try {
    await sleep(150); // the other client is being served before the attack starts, and after it ends
    result = await attack();
    await sleep(150);
  } finally {
    reports.push([name, await watch.stop()]);
  }
  const report = reports[reports.length - 1][1];
  expect(report.failures, `${name}: the other client's failed requests`).toEqual([]);
  expect(report.requests, `${name}: the other client was served`).toBeGreaterThan(0);
  expect(report.slowestMs, `${name}: the other client's slowest answer (ms)`).toBeLessThan(1_000);
  expect(report.loopMaxMs, `${name}: longest event-loop block (ms)`).toBeLessThan(200);
  expect(report.rssMaxMb, `${name}: RSS (MB)`).toBeLessThan(1_024);
  return result;
}

function expectRefused(res: FhirResponse, status: number): void {
  expect(res.status, JSON.stringify(res.body)?.slice(0, 300)).toBe(status);
  expect(res.body?.resourceType, res.text.slice(0, 300)).toBe('OperationOutcome');
}

function gql(query: string, variables: Record<string, unknown> = {}, token?: string) {
  return fhirFetch(`${t.url}/graphql`, { method: 'POST', body: JSON.stringify({ query, variables }), headers: { 'content-type': 'application/json' }, token });
}

function aliases(n: number, field: string): string {
  return `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
}

/** POSTs a token request from another loopback address (an attacker elsewhere on the network). */
function postTokenFrom(from: string, form: URLSearchParams): Promise<number> {
  const target = new URL(`${t.url}/auth/token`);
  const payload = form.toString();
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: target.hostname, port: target.port, path: target.pathname, method: 'POST', localAddress: from,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(payload) },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * POSTs a GraphQL query and counts the answer's bytes without decoding them (parsing a 23 MB
 * introspection answer would block the test's own loop, which is the server's): its status, the
 * Retry-After header, its size and its first bytes.
 */
function gqlBytes(query: string, token: string): Promise<{ status: number; retryAfter?: string; size: number; head: string }> {
  const target = new URL(`${t.url}/graphql`);
  const payload = JSON.stringify({ query });
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'identity', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      let size = 0;
      let head = '';
      res.on('data', (chunk: Buffer) => {
        if (head.length < 200) head += chunk.subarray(0, 200).toString('utf8');
        size += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, size, head }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Writes a hostile body to a file up front, for {@link curlPost}. */
async function bodyFile(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'abuse-')), 'body');
  await writeFile(file, text);
  return file;
}

/**
 * POSTs a large body from another process (curl): sending 30 MiB from this process, which is the
 * server's too, would block its event loop on the client's side alone.
 */
async function curlPost(path: string, file: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const args = ['-s', '-X', 'POST', '--data-binary', `@${file}`, '-w', '\n%{http_code}', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), `${t.url}${path}`];
  const { stdout } = await execFileAsync('curl', args, { maxBuffer: 2 ** 20 });
  const at = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(at + 1)), body: JSON.parse(stdout.slice(0, at) || 'null') };
}

function expectGraphQLRefused(res: FhirResponse, code = 'BAD_USER_INPUT'): void {
  expect(res.status, res.text.slice(0, 300)).not.toBe(500);
  expect(res.body?.errors?.map((e: any) => e.extensions?.code), res.text.slice(0, 300)).toContain(code);
  expect(res.body?.data ?? null).toBeNull();
}

beforeAll(async () => {
  // The product's default client limits (the test helper turns them off unless asked).
  t = await startTestServer({ rateLimit: { perSecond: 200, perMinute: 6_000 } });
  const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Reader' }] } });
  patientId = created.body.id;
  for (let i = 0; i < 5; i++) {
    await fhirFetch(`${t.url}/fhir/Observation`, {
      method: 'POST', body: { resourceType: 'Observation', status: 'final', code: { text: `o${i}` }, subject: { reference: `Patient/${patientId}` } },
    });
  }
  const client = await t.createClient({ name: 'bystander', scope: 'system/Patient.rs' });
  bystander = { clientId: client.client_id, refreshToken: client.refresh_token!, accessToken: await t.tokenFor(client.refresh_token!) };
}, 60_000);

afterAll(async () => {
  for (const [name, r] of reports) {
    console.log(`[abuse] ${name}: other client ${r.requests} requests, slowest ${r.slowestMs.toFixed(0)} ms; loop max ${r.loopMaxMs.toFixed(0)} ms; RSS max ${r.rssMaxMb.toFixed(0)} MB`);
  }
  await t?.close();
});

describe('one hostile request does not stall anyone else (issue 14)', () => {
  it('1. a narrative tag with many attributes and a stray < : 422', async () => {
    const token = await t.tokenWithScope('system/Patient.c');
    const div = `<div xmlns="http://www.w3.org/1999/xhtml"><p${' a="b"'.repeat(28)}<</p></div>`;
    const res = await whileOthersRead('narrative', () => fhirFetch(`${t.url}/fhir/Patient`, {
      method: 'POST', token, body: { resourceType: 'Patient', text: { status: 'generated', div } },
    }));
    expectRefused(res, 422);
  });

  it('2. a GraphQL document whose fragments fan out 2^23 ways: refused at once', async () => {
    const fragments = Array.from({ length: 23 }, (_, i) => (i === 22
      ? `fragment F${i} on Patient { id }`
      : `fragment F${i} on Patient { ...G${i} ...H${i} }\nfragment G${i} on Patient { ObservationList(_reference: subject, _count: 2) { subject { resource { ...F${i + 1} } } } }\nfragment H${i} on Patient { ...G${i} }`)).join('\n');
    const token = await t.tokenWithScope('system/Patient.rs');
    const res = await whileOthersRead('fragment fan-out', () => gql(`{ PatientList(_count: 1) { ...F0 } }\n${fragments}`, {}, token));
    expectGraphQLRefused(res);
  });

  it('3. the cost limit with _count in variables, variable defaults, a negative sibling and _revinclude: refused', async () => {
    const token = await t.tokenWithScope('system/*.rs');
    const nested = 'PatientList(_count: $n) { ObservationList(_reference: subject, _count: $n) { id } }';
    await whileOthersRead('cost bypasses', async () => {
      expectGraphQLRefused(await gql(`query($n: Int) { ${nested} }`, { n: 1_000 }, token));
      expectGraphQLRefused(await gql(`query($n: Int = 1000) { ${nested} }`, {}, token));
      expectGraphQLRefused(await gql(`query($n: Int, $minus: Int) { a: PatientList(_count: $minus) { id } b: ${nested} }`, { n: 1_000, minus: -1_000_000 }, token));
      expectGraphQLRefused(await gql(aliases(10, 'PatientConnection(_count: 20, _revinclude: "Observation:subject") { edges { mode } }'), {}, token));
    });
  });

  it('4. (GraphQL) 1,000 aliases of an accurate count: refused before anything runs', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    const res = await whileOthersRead('1,000 counted aliases', () => gql(aliases(1_000, 'PatientConnection(_total: "accurate") { count }'), {}, token));
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toMatch(/BAD_USER_INPUT|GRAPHQL_PARSE_FAILED/);
    expect(res.body.extensions?.statements ?? 0).toBe(0);
  });

  it('6. forged token requests naming the other client from elsewhere: they are refused, the other client never is', async () => {
    const forged = new URLSearchParams({ grant_type: 'refresh_token', client_id: bystander.clientId, refresh_token: 'fgr_forged' });
    const statuses = await whileOthersRead('token lockout', async () => {
      const answers: number[] = [];
      for (let i = 0; i < 40; i++) answers.push(await postTokenFrom(`127.0.0.${2 + (i % 3)}`, forged));
      return answers;
    });
    expect(statuses.every((s) => s === 400 || s === 401 || s === 429), statuses.join(',')).toBe(true);
    // The bystander's own token requests (every fourth of its requests) all got 200: see whileOthersRead.
  });

  it('7. a batch of 10,000 reads from a 5/s client: refused as too costly, nothing run', async () => {
    const token = await t.tokenWithScope('system/Patient.rs', { rate: '5/s' });
    const bundle = JSON.stringify({
      resourceType: 'Bundle', type: 'batch', entry: Array.from({ length: 10_000 }, () => ({ request: { method: 'GET', url: `Patient/${patientId}` } })),
    });
    const res = await whileOthersRead('10,000-entry batch', () => fhirFetch(`${t.url}/fhir`, { method: 'POST', token, body: bundle }));
    expectRefused(res, 429);
    expect(res.body.issue[0].code).toBe('too-costly');
  });

  it('4. (REST) 1,000 _sort keys and 200 AND-ed criteria: 400 before any SQL', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    const sort = Array.from({ length: 1_000 }, (_, i) => (i % 2 ? '-birthdate' : 'family')).join(',');
    const criteria = Array.from({ length: 200 }, (_, i) => `name=a${i}`).join('&');
    const [sorted, anded] = await whileOthersRead('sort keys and criteria', async () => [
      await fhirFetch(`${t.url}/fhir/Patient?_sort=${sort}`, { token }),
      await fhirFetch(`${t.url}/fhir/Patient?${criteria}`, { token }),
    ]);
    expectRefused(sorted, 400);
    expectRefused(anded, 400);
  });

  it('5. a Patient with 250,000 given names (the 4 MB one of 1,000,000 is over MAX_RESOURCE_BODY): 422, nothing indexed', async () => {
    const token = await t.tokenWithScope('system/Patient.c');
    const body = `{"resourceType":"Patient","name":[{"family":"Amplified","given":[${'"g",'.repeat(249_999)}"g"]}]}`;
    const res = await whileOthersRead('write amplification', () => fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', token, body }));
    expectRefused(res, 422);
    const found = await fhirFetch(`${t.url}/fhir/Patient?family=Amplified&_summary=count`);
    expect(found.body.total).toBe(0);
  });

  it('10. forged cursors and decimals beyond numeric: 400 and 422, never 500', async () => {
    const token = await t.tokenWithScope('system/Observation.crus system/Patient.rs');
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const huge = '9'.repeat(200_001);
    const answers = await whileOthersRead('cursors and decimals', async () => [
      await fhirFetch(`${t.url}/fhir/Patient?_sort=birthdate&_cursor=${cursor({ f: true, v: ['garbage', 'x'] })}`, { token }),
      await fhirFetch(`${t.url}/fhir/Patient?_sort=birthdate&_cursor=${cursor({ f: true, v: ['294277-01-01 00:00:00+00', 'x'] })}`, { token }),
      await fhirFetch(`${t.url}/fhir/Observation?_sort=value-quantity&_cursor=${cursor({ f: true, v: ['1e999999', 'x'] })}`, { token }),
      await fhirFetch(`${t.url}/fhir/Observation?value-quantity=gt1e131072`, { token }),
      await fhirFetch(`${t.url}/fhir/Observation`, {
        method: 'POST', token, body: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e131072}}`,
      }),
      await fhirFetch(`${t.url}/fhir/Observation`, {
        method: 'POST', token, body: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":${huge}}}`,
      }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 422, 422]);
    for (const answer of answers) expect(answer.body.resourceType).toBe('OperationOutcome');
  });

  it('12. a 100 KB URL and 100 KB of headers: 414 and 431 as OperationOutcomes that do not echo them', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    const secret = 'x'.repeat(100_000);
    const [longUrl, bigHeaders] = await whileOthersRead('URL and headers', async () => [
      await fhirFetch(`${t.url}/fhir/Patient?name=${secret}`, { token }),
      await fhirFetch(`${t.url}/fhir/Patient`, { token, headers: { 'x-padding': secret } }),
    ]);
    expectRefused(longUrl, 414);
    expectRefused(bigHeaders, 431);
    expect(longUrl.text).not.toContain('xxxxxxxxxx');
    expect(bigHeaders.text).not.toContain('xxxxxxxxxx');
  });

  it('13. four GraphQL operations of 20 slow searches from one client: the other client\'s GraphQL reads are not held up (review #4)', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    const slow = aliases(20, 'PatientList(name: "nobody", _count: 1) { id }');
    // Each search waits for the locked string index; the lock goes when the check is done, and the operations finish.
    const { attack } = await withStringIndexLocked(t, async () => {
      let sent: Promise<number[]> | undefined;
      await whileOthersRead('slow GraphQL operations of one client', async () => {
        sent = Promise.all(Array.from({ length: 4 }, () => gql(slow, {}, token).then((res) => res.status)));
        await sleep(2_000);
      });
      return { attack: sent! };
    });
    expect(await attack).toEqual([200, 200, 200, 200]);
  });

  it('15. one client\'s 12 concurrent slow searches: the other client\'s reads, tokens and /healthz are not held up (review 2, #4)', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    // Each search waits for the locked string index; one client's requests hold only its share of the pool.
    const { attack } = await withStringIndexLocked(t, async () => {
      let sent: Promise<FhirResponse[]> | undefined;
      await whileOthersRead('12 slow searches of one client', async () => {
        sent = Promise.all(Array.from({ length: 12 }, () => fhirFetch(`${t.url}/fhir/Patient?name=nobody`, { token })));
        await sleep(2_000);
      });
      return { attack: sent! };
    });
    for (const res of await attack) {
      expect([200, 503], res.text.slice(0, 300)).toContain(res.status);
      if (res.status === 503) expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    }
  });

  it('16. 30 MiB form bodies of a search and a token request: 413 before they are decoded (review 2, #1)', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    const search = await bodyFile('name=a&'.repeat(4_500_000));
    const grant = await bodyFile(`grant_type=refresh_token&refresh_token=${'x'.repeat(30 * 2 ** 20)}`);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const [searched, granted] = await whileOthersRead('30 MiB form bodies', async () => [
      await curlPost('/fhir/Patient/_search', search, { ...form, authorization: `Bearer ${token}` }),
      await curlPost('/auth/token', grant, form),
    ]);
    expect(searched.status).toBe(413);
    expect(searched.body.resourceType).toBe('OperationOutcome');
    expect(granted.status).toBe(413);
    expect(granted.body.error).toBe('invalid_request');
  });

  it('17. a JSON Patch of 22 copies of an array into itself: 422 before the resource doubles past RESOURCE_MAX_ITEMS (review 2, #2)', async () => {
    const token = await t.tokenWithScope('system/Patient.cru');
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', token, body: { resourceType: 'Patient', name: [{ family: 'Doubled', given: ['a'] }] } });
    const doubling = JSON.stringify(Array.from({ length: 22 }, () => ({ op: 'copy', from: '/name', path: '/name/-' })));
    const res = await whileOthersRead('doubling JSON Patch', () => fhirFetch(`${t.url}/fhir/Patient/${created.body.id}`, {
      method: 'PATCH', token, headers: { 'content-type': 'application/json-patch+json' }, body: doubling,
    }));
    expectRefused(res, 422);
    expect(res.body.issue[0].diagnostics).toContain('RESOURCE_MAX_ITEMS');
  });

  it('18. a 30 MiB transaction of 1,000 Patients: stored, other clients served between its entries (review 2, #3)', async () => {
    const token = await t.tokenWithScope('system/Patient.c', { rate: '2000/s,100000/min' });
    const patient = (i: number) => ({
      resourceType: 'Patient', name: [{ family: `Bulk${i}` }],
      extension: Array.from({ length: 250 }, (_, j) => ({ url: `http://example.org/bulk/${j}`, valueString: `${i}-${j}-${'v'.repeat(60)}` })),
    });
    const bundle = JSON.stringify({
      resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: 1_000 }, (_, i) => ({ resource: patient(i), request: { method: 'POST', url: 'Patient' } })),
    });
    expect(bundle.length).toBeGreaterThan(28 * 2 ** 20);
    expect(bundle.length).toBeLessThan(t.config.maxBodyBytes);
    const file = await bodyFile(bundle);
    const res = await whileOthersRead('30 MiB transaction', () => curlPost('/fhir', file, {
      'content-type': 'application/fhir+json', authorization: `Bearer ${token}`, prefer: 'return=minimal',
    }));
    expect(res.status, JSON.stringify(res.body)?.slice(0, 300)).toBe(200);
    expect(res.body.entry).toHaveLength(1_000);
    expect(res.body.entry[999].response.status).toBe('201 Created');
  }, 120_000);

  it('18. (resources) a 3 MiB Patient: 413 before it is read; one just under MAX_RESOURCE_BODY: validated without stalling anyone', async () => {
    const token = await t.tokenWithScope('system/Patient.c');
    const narrative = (bytes: number) => `<div xmlns="http://www.w3.org/1999/xhtml">${'<p>x</p>'.repeat(Math.floor((bytes - 200) / 8))}</div>`;
    const over = await bodyFile(JSON.stringify({ resourceType: 'Patient', text: { status: 'generated', div: narrative(3 * 2 ** 20) } }));
    // Costly to validate: a quarter megabyte of tags in the narrative, and 7,000 nested
    // extensions (63,000 JSON values) filling the rest.
    const near = JSON.stringify({
      resourceType: 'Patient', text: { status: 'generated', div: narrative(250_000) },
      extension: Array.from({ length: 7_000 }, (_, i) => ({ url: `http://example.org/${i}`, extension: [{ url: 'a', valueString: 'x' }, { url: 'b', valueString: 'y' }] })),
    });
    expect(near.length).toBeLessThan(t.config.maxResourceBodyBytes);
    expect(near.length).toBeGreaterThan(t.config.maxResourceBodyBytes * 0.8);
    const nearFile = await bodyFile(near);
    const headers = { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}`, prefer: 'return=minimal' };
    const [refused, stored] = await whileOthersRead('resource bodies near and over MAX_RESOURCE_BODY', async () => [
      await curlPost('/fhir/Patient', over, headers),
      await curlPost('/fhir/Patient', nearFile, headers),
    ]);
    expect(refused.status).toBe(413);
    expect(refused.body.resourceType).toBe('OperationOutcome');
    expect(stored.status, JSON.stringify(stored.body)?.slice(0, 300)).toBe(201);
  });

  describe('14. introspection and _service from the narrowest client are answered off the main thread, or refused (review #3)', () => {
    const introspection = getIntrospectionQuery();
    // The standard query's __schema selection, and its fragments, to alias and repeat.
    const schemaField = introspection.slice(introspection.indexOf('__schema'), introspection.indexOf('fragment FullType')).trim().replace(/}\s*$/, '');
    const fragments = introspection.slice(introspection.indexOf('fragment FullType'));

    it('the standard introspection query renamed (not kept): answered in full', async () => {
      const token = await t.tokenWithScope('system/Patient.rs');
      const res = await whileOthersRead('renamed introspection', () => gqlBytes(introspection.replace('query IntrospectionQuery', 'query Renamed'), token));
      expect(res.status).toBe(200);
      expect(res.head).toMatch(/^\{"data":\{"__schema":\{"queryType":\{"name":"Query"/);
      expect(res.size).toBeGreaterThan(20_000_000);
    }, 120_000);

    it('two aliased __schema, 40 __type(name: "Query") through a fragment, 100 _service { sdl }: refused', async () => {
      // A client each: a new client's burst may meet its rate-limit claim (429) before the limiter syncs.
      const tokens = await Promise.all(Array.from({ length: 4 }, () => t.tokenWithScope('system/Patient.rs')));
      const typeFragment = 'fragment T on __Type { fields { name args { name defaultValue type { name kind ofType { name kind } } } } }';
      const answers = await whileOthersRead('aliased introspection and _service', async () => [
        await gql(`query { a: ${schemaField} b: ${schemaField} }\n${fragments}`, {}, tokens[0]),
        await gql(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: __type(name: "Query") { ...T }`).join(' ')} } ${typeFragment}`, {}, tokens[1]),
        await gql(aliases(100, '_service { sdl }'), {}, tokens[2]),
        await gql('{ __schema { a: types { name } b: types { name } } }', {}, tokens[3]),
      ]);
      for (const res of answers) {
        expect(res.status, res.text.slice(0, 300)).toBe(400);
        expectGraphQLRefused(res);
      }
    });

    it('eight clients\' distinct introspection queries at once: each answered or refused with 503 and Retry-After', async () => {
      const tokens = await Promise.all(Array.from({ length: 8 }, () => t.tokenWithScope('system/Patient.rs')));
      const answers = await whileOthersRead('eight introspections at once', () => Promise.all(tokens.map((token, i) =>
        gqlBytes(introspection.replace('query IntrospectionQuery', `query Client${i}`), token))));
      const statuses = answers.map((a) => a.status);
      expect(statuses.every((s) => s === 200 || s === 503), statuses.join(',')).toBe(true);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
      for (const refused of answers.filter((a) => a.status === 503)) expect(refused.retryAfter).toMatch(/^\d+$/);
      for (const answered of answers.filter((a) => a.status === 200)) expect(answered.size).toBeGreaterThan(20_000_000);
    }, 180_000);
  });
});

/**
 * Binary content (issue 17; https://hl7.org/fhir/R4/http.html#binary): raw uploads and downloads
 * byte-identical with the right headers, the FHIR JSON view with `data` in base64, versions keeping
 * their own bytes, `MAX_BINARY`, the owner rule on raw writes, a DocumentReference pointing at an
 * uploaded Binary, and Binaries in Bundles and GraphQL — all against a real server and database.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const MAX_BINARY = 4 * 1024 * 1024;
let t: TestServer;
let db: pg.Client;
beforeAll(async () => {
  t = await startTestServer({ maxBinaryBytes: MAX_BINARY });
  db = new pg.Client({ connectionString: t.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await t?.close();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/** Sends raw bytes to a Binary URL. */
async function upload(url: string, bytes: Uint8Array, headers: Record<string, string> = {}, method = 'POST', token = t.adminToken) {
  const response = await fetch(url, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf', ...headers }, body: bytes });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
}

/** Reads a Binary URL as raw bytes. */
async function download(url: string, headers: Record<string, string> = { accept: 'application/pdf' }, token = t.adminToken) {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

async function storedCounts() {
  const { rows } = await db.query(`SELECT (SELECT count(*) FROM binary_chunk)::int AS chunks, (SELECT count(*) FROM binary_content)::int AS contents,
    (SELECT count(*) FROM resource WHERE resource_type = 'Binary')::int AS binaries`);
  return rows[0] as { chunks: number; contents: number; binaries: number };
}

describe('raw upload and download', () => {
  // Three chunks and a bit, a length that is no multiple of 3 (base64 padding).
  const bytes = randomBytes(2 * 786_432 + 100_001);
  let id: string;

  it('stores a raw body and answers the resource without data, marked SUBSETTED', async () => {
    const created = await upload(`${t.url}/fhir/Binary`, bytes, { 'x-security-context': 'Patient/example' });
    expect(created.status).toBe(201);
    id = created.body.id;
    expect(created.headers.get('location')).toBe(`${t.fhirBase}/Binary/${id}/_history/1`);
    expect(created.body).toMatchObject({ resourceType: 'Binary', contentType: 'application/pdf', securityContext: { reference: 'Patient/example' } });
    expect(created.body.data).toBeUndefined();
    expect(created.body.meta.tag).toContainEqual(SUBSETTED);
  });

  it('gives the bytes back identical, with Content-Type, Content-Length, ETag, Last-Modified and X-Security-Context', async () => {
    const read = await download(`${t.url}/fhir/Binary/${id}`);
    expect(read.status).toBe(200);
    expect(sha256(read.bytes)).toBe(sha256(bytes));
    expect(read.headers.get('content-type')).toBe('application/pdf');
    expect(read.headers.get('content-length')).toBe(String(bytes.length));
    expect(read.headers.get('etag')).toBe('W/"1"');
    expect(new Date(read.headers.get('last-modified')!).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(read.headers.get('x-security-context')).toBe('Patient/example');
    expect(read.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers the content for Accept */* and for no Accept at all, and 304 for a current ETag', async () => {
    expect(sha256((await download(`${t.url}/fhir/Binary/${id}`, { accept: '*/*' })).bytes)).toBe(sha256(bytes));
    const noAccept = await new Promise<Buffer>((resolve, reject) => {
      http.get(`${t.url}/fhir/Binary/${id}`, { headers: { authorization: `Bearer ${t.adminToken}` } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
      }).on('error', reject);
    });
    expect(sha256(noAccept)).toBe(sha256(bytes));
    const cached = await download(`${t.url}/fhir/Binary/${id}`, { accept: 'application/pdf', 'if-none-match': 'W/"1"' });
    expect(cached.status).toBe(304);
  });

  it('answers the resource with data in base64 for Accept application/fhir+json', async () => {
    const read = await fhirFetch(`${t.url}/fhir/Binary/${id}`, { headers: { accept: 'application/fhir+json' } });
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toContain('application/fhir+json');
    expect(read.headers.get('content-length')).toBe(String(Buffer.byteLength(read.text)));
    expect(read.body).toMatchObject({ resourceType: 'Binary', id, contentType: 'application/pdf' });
    expect(sha256(Buffer.from(read.body.data, 'base64'))).toBe(sha256(bytes));
    expect(read.body.meta.tag).toBeUndefined();
    const pretty = await fhirFetch(`${t.url}/fhir/Binary/${id}?_pretty=true`, { headers: { accept: 'application/fhir+json' } });
    expect(pretty.text).toContain('\n  "data": "');
    expect(pretty.body.data).toBe(read.body.data);
    const viaFormat = await fhirFetch(`${t.url}/fhir/Binary/${id}?_format=json`);
    expect(viaFormat.body.data).toBe(read.body.data);
  });

  it('keeps _summary and _elements working on the FHIR view', async () => {
    const summary = await fhirFetch(`${t.url}/fhir/Binary/${id}?_summary=true`, { headers: { accept: 'application/fhir+json' } });
    expect(summary.body.data).toBeUndefined();
    expect(summary.body.contentType).toBe('application/pdf');
    expect(summary.body.meta.tag).toContainEqual(SUBSETTED);
    const elements = await fhirFetch(`${t.url}/fhir/Binary/${id}?_elements=data`, { headers: { accept: 'application/fhir+json' } });
    expect(elements.body.contentType).toBeUndefined();
    expect(sha256(Buffer.from(elements.body.data, 'base64'))).toBe(sha256(bytes));
  });

  it('keeps the bytes out of the resource JSON', async () => {
    const { rows } = await db.query(`SELECT content::text AS content FROM resource WHERE resource_type = 'Binary' AND id = $1`, [id]);
    expect(rows[0].content).not.toContain('"data"');
    expect(rows[0].content.length).toBeLessThan(1000);
  });
});

describe('FHIR JSON Binaries', () => {
  it('stores a JSON Binary\'s data as bytes: the raw read gives them back', async () => {
    const text = 'hello, binary world\n';
    const created = await fhirFetch(`${t.url}/fhir/Binary`, { method: 'POST', body: { resourceType: 'Binary', contentType: 'text/plain', data: Buffer.from(text).toString('base64') } });
    expect(created.status).toBe(201);
    expect(created.body.data).toBeUndefined();
    expect(created.body.meta.tag).toContainEqual(SUBSETTED);
    const raw = await download(`${t.url}/fhir/Binary/${created.body.id}`, { accept: 'text/plain' });
    expect(raw.bytes.toString()).toBe(text);
    expect(raw.headers.get('content-type')).toBe('text/plain');
    const { rows } = await db.query(`SELECT content::text AS content FROM resource_history WHERE resource_type = 'Binary' AND id = $1`, [created.body.id]);
    expect(rows[0].content).not.toContain('"data"');
  });

  it('takes a JSON Binary whose data is over the 1 MB string limit, up to the body limit of a transaction', async () => {
    const bytes = randomBytes(1_200_000); // 1.6 MB of base64: over MAX_RESOURCE_BODY, within MAX_BODY
    const bundle = {
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:3f1e7c52-6a0e-4a36-9f5e-0d8a3b2b1c01', resource: { resourceType: 'Binary', contentType: 'image/png', data: bytes.toString('base64') }, request: { method: 'POST', url: 'Binary' } }],
    };
    const answer = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle });
    expect(answer.status).toBe(200);
    const location = answer.body.entry[0].response.location as string;
    const id = /Binary\/([^/]+)/.exec(location)![1];
    const raw = await download(`${t.url}/fhir/Binary/${id}`, { accept: 'image/png' });
    expect(sha256(raw.bytes)).toBe(sha256(bytes));
  });

  it('refuses a JSON Binary body over MAX_RESOURCE_BODY with 413 (large files go up raw)', async () => {
    const data = randomBytes(900_000).toString('base64');
    const refused = await fhirFetch(`${t.url}/fhir/Binary`, { method: 'POST', body: { resourceType: 'Binary', contentType: 'image/png', data } });
    expect(refused.status).toBe(413);
  });
});

describe('versions', () => {
  it('returns each version\'s own bytes on vread, and a PATCH keeps the bytes', async () => {
    const first = randomBytes(10_000);
    const second = randomBytes(900_000);
    const created = await upload(`${t.url}/fhir/Binary`, first);
    const id = created.body.id;
    const updated = await upload(`${t.url}/fhir/Binary/${id}`, second, { 'content-type': 'image/jpeg', 'if-match': 'W/"1"' }, 'PUT');
    expect(updated.status).toBe(200);
    expect(updated.body.meta.versionId).toBe('2');
    const patch = [{ op: 'add', path: '/securityContext', value: { reference: 'Patient/p1' } }];
    const patched = await fhirFetch(`${t.url}/fhir/Binary/${id}`, { method: 'PATCH', body: JSON.stringify(patch), headers: { 'content-type': 'application/json-patch+json' } });
    expect(patched.status).toBe(200);

    const v1 = await download(`${t.url}/fhir/Binary/${id}/_history/1`, { accept: '*/*' });
    expect(v1.headers.get('content-type')).toBe('application/pdf');
    expect(sha256(v1.bytes)).toBe(sha256(first));
    const v2 = await download(`${t.url}/fhir/Binary/${id}/_history/2`, { accept: '*/*' });
    expect(v2.headers.get('content-type')).toBe('image/jpeg');
    expect(sha256(v2.bytes)).toBe(sha256(second));
    const current = await download(`${t.url}/fhir/Binary/${id}`, { accept: '*/*' });
    expect(current.headers.get('etag')).toBe('W/"3"');
    expect(current.headers.get('x-security-context')).toBe('Patient/p1');
    expect(sha256(current.bytes)).toBe(sha256(second));
    const v1Json = await fhirFetch(`${t.url}/fhir/Binary/${id}/_history/1`, { headers: { accept: 'application/fhir+json' } });
    expect(Buffer.from(v1Json.body.data, 'base64').equals(first)).toBe(true);
  });

  it('answers 412 to a raw PUT with a stale If-Match, storing nothing', async () => {
    const created = await upload(`${t.url}/fhir/Binary`, randomBytes(100));
    const before = await storedCounts();
    const stale = await upload(`${t.url}/fhir/Binary/${created.body.id}`, randomBytes(100), { 'if-match': 'W/"7"' }, 'PUT');
    expect(stale.status).toBe(412);
    expect(await storedCounts()).toEqual(before);
  });
});

describe('MAX_BINARY', () => {
  it('refuses content over MAX_BINARY with 413, by Content-Length and counted when chunked, leaving nothing stored', async () => {
    const before = await storedCounts();
    const declared = await upload(`${t.url}/fhir/Binary`, randomBytes(MAX_BINARY + 1));
    expect(declared.status).toBe(413);
    expect(declared.body.resourceType).toBe('OperationOutcome');
    const big = randomBytes(MAX_BINARY + 1);
    const chunked = await fetch(`${t.url}/fhir/Binary`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        start(controller) {
          for (let at = 0; at < big.length; at += 65_536) controller.enqueue(big.subarray(at, at + 65_536));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    expect(await storedCounts()).toEqual(before);
  });

  it('leaves nothing behind when the client goes away mid-upload', async () => {
    const before = await storedCounts();
    await new Promise<void>((resolve) => {
      const request = http.request(`${t.url}/fhir/Binary`, {
        method: 'POST', headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/pdf', 'content-length': String(3_000_000) },
      });
      request.on('error', () => resolve());
      request.on('response', () => resolve());
      request.write(randomBytes(1_800_000), () => setTimeout(() => { request.destroy(); resolve(); }, 300));
    });
    // The server notices and rolls back; give it a moment.
    let after = await storedCounts();
    for (let i = 0; i < 20 && JSON.stringify(after) !== JSON.stringify(before); i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await storedCounts();
    }
    expect(after).toEqual(before);
  });
});

describe('the owner rule', () => {
  it('lets only the creating client replace or delete a Binary, raw PUT included', async () => {
    const owner = await t.tokenWithScope('system/Binary.cruds');
    const other = await t.tokenWithScope('system/Binary.cruds');
    const created = await upload(`${t.url}/fhir/Binary`, randomBytes(1000), {}, 'POST', owner);
    expect(created.status).toBe(201);
    const id = created.body.id;
    const before = await storedCounts();
    expect((await upload(`${t.url}/fhir/Binary/${id}`, randomBytes(1000), {}, 'PUT', other)).status).toBe(403);
    expect((await fhirFetch(`${t.url}/fhir/Binary/${id}`, { method: 'DELETE', token: other })).status).toBe(403);
    expect(await storedCounts()).toEqual(before);
    const replaced = randomBytes(2000);
    expect((await upload(`${t.url}/fhir/Binary/${id}`, replaced, {}, 'PUT', owner)).status).toBe(200);
    expect(sha256((await download(`${t.url}/fhir/Binary/${id}`, { accept: '*/*' }, other)).bytes)).toBe(sha256(replaced));
    expect((await fhirFetch(`${t.url}/fhir/Binary/${id}`, { method: 'DELETE', token: owner })).status).toBe(200);
    expect((await download(`${t.url}/fhir/Binary/${id}`, { accept: '*/*' })).status).toBe(410);
  });

  it('refuses a raw upload without the create scope with 403', async () => {
    const reader = await t.tokenWithScope('system/Binary.rs');
    expect((await upload(`${t.url}/fhir/Binary`, randomBytes(10), {}, 'POST', reader)).status).toBe(403);
  });
});

describe('where a Binary is referred to and listed', () => {
  it('serves the bytes of a DocumentReference attachment whose url is Binary/{id}', async () => {
    const pdf = randomBytes(300_000);
    const binary = await upload(`${t.url}/fhir/Binary`, pdf);
    const doc = await fhirFetch(`${t.url}/fhir/DocumentReference`, {
      method: 'POST',
      body: { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'application/pdf', url: `Binary/${binary.body.id}`, size: pdf.length } }] },
    });
    expect(doc.status).toBe(201);
    const read = await fhirFetch(`${t.url}/fhir/DocumentReference/${doc.body.id}`);
    const url = new URL(read.body.content[0].attachment.url, `${t.url}/fhir/`).toString();
    const fetched = await download(url, { accept: read.body.content[0].attachment.contentType });
    expect(fetched.status).toBe(200);
    expect(sha256(fetched.bytes)).toBe(sha256(pdf));
  });

  it('lists Binaries in search and history without data, marked SUBSETTED', async () => {
    const created = await upload(`${t.url}/fhir/Binary`, randomBytes(5000));
    const search = await fhirFetch(`${t.url}/fhir/Binary?_id=${created.body.id}`);
    expect(search.body.entry).toHaveLength(1);
    expect(search.body.entry[0].resource.data).toBeUndefined();
    expect(search.body.entry[0].resource.meta.tag).toEqual([SUBSETTED]);
    const history = await fhirFetch(`${t.url}/fhir/Binary/${created.body.id}/_history`);
    expect(history.body.entry[0].resource.data).toBeUndefined();
    expect(history.body.entry[0].resource.meta.tag).toEqual([SUBSETTED]);
    const plain = await fhirFetch(`${t.url}/fhir/Binary`, { method: 'POST', body: { resourceType: 'Binary', contentType: 'text/plain' } });
    const unmarked = await fhirFetch(`${t.url}/fhir/Binary?_id=${plain.body.id}`);
    expect(unmarked.body.entry[0].resource.meta.tag).toBeUndefined();
  });

  it('resolves GraphQL Binary.data from the bytes, and refuses it beyond the inline limit', async () => {
    const small = Buffer.from('small content');
    const created = await graphql(`mutation { BinaryCreate(res: { contentType: "text/plain", data: "${small.toString('base64')}" }) { id data } }`);
    expect(created.errors).toBeUndefined();
    const id = created.data.BinaryCreate.id;
    expect(created.data.BinaryCreate.data).toBe(small.toString('base64'));
    const read = await graphql(`{ Binary(_id: "${id}") { contentType data } }`);
    expect(read.data.Binary).toEqual({ contentType: 'text/plain', data: small.toString('base64') });
    const large = await upload(`${t.url}/fhir/Binary`, randomBytes(1_100_000));
    const refused = await graphql(`{ Binary(_id: "${large.body.id}") { contentType data } }`);
    expect(refused.data.Binary.contentType).toBe('application/pdf');
    expect(refused.data.Binary.data).toBeNull();
    expect(refused.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('still refuses other media types on other routes with 415', async () => {
    const refused = await upload(`${t.url}/fhir/Patient`, Buffer.from('x'), { 'content-type': 'text/plain' });
    expect(refused.status).toBe(415);
  });
});

async function graphql(query: string) {
  const response = await fetch(`${t.url}/graphql`, {
    method: 'POST', headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ query }),
  });
  return (await response.json()) as any;
}

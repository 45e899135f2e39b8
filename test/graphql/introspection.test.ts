/**
 * Introspection (issue 5, "Protection"; review #3): on by default, refused when configured off;
 * executed by the schema worker off the main thread and identical to the served schema's own
 * (admin and Federation parts included); kept per request text and served compressed; and the
 * bounds on what one operation may ask of the schema (`readSchemaOperation`).
 */
import { execute, getIntrospectionQuery, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { subgraphSdl } from '../../src/graphql/federation-sdl.ts';
import { buildExecutableSchema } from '../../src/graphql/graphql-server.ts';
import { readSchemaOperation } from '../../src/graphql/schema-operation.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const QUERY = getIntrospectionQuery();
/** Every option graphql-js's introspection query has: descriptions, deprecated arguments, repeatable directives, `specifiedByURL`. */
const FULL_QUERY = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });

async function post(server: TestServer, query: string, headers: Record<string, string> = {}) {
  const started = performance.now();
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, ...headers }, body: JSON.stringify({ query }),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { response, bytes, ms: performance.now() - started };
}

function read(query: string) {
  const schema = buildExecutableSchema(t.server.service);
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  return readSchemaOperation(schema, document, operation);
}

beforeAll(async () => {
  t = await startTestServer();
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('operations that ask the schema', () => {
  it('takes the standard IntrospectionQuery, __type, _service and a fragment on Query, and leaves data queries alone', () => {
    expect(read(QUERY)).toEqual({ schema: 1, types: 0, service: 0 });
    expect(read(FULL_QUERY)).toEqual({ schema: 1, types: 0, service: 0 });
    expect(read('{ a: __type(name: "Patient") { name } b: __type(name: "Query") { name } __typename }')).toEqual({ schema: 0, types: 2, service: 0 });
    expect(read('query __ApolloGetServiceDefinition__ { _service { sdl } }')).toEqual({ schema: 0, types: 0, service: 1 });
    expect(read('{ ...Q } fragment Q on Query { ... on Query { __schema { queryType { name } } } }')).toEqual({ schema: 1, types: 0, service: 0 });
    expect(read('{ __typename }')).toBeUndefined();
    expect(read('{ PatientList { id } }')).toBeUndefined();
    expect(read('mutation { __typename }')).toBeUndefined();
  });

  it('refuses introspection mixed with data, more than one __schema or _service, more than 10 __type (review #3)', () => {
    expect(() => read('{ __schema { queryType { name } } PatientList { id } }')).toThrow(/in a request of their own, not with "PatientList"/);
    expect(() => read('{ _service { sdl } ...D } fragment D on Query { Patient(_id: "1") { id } }')).toThrow(/in a request of their own/);
    expect(() => read('{ a: __schema { queryType { name } } b: __schema { queryType { name } } }')).toThrow(/__schema once; this one selects it 2 times/);
    expect(() => read('{ a: _service { sdl } b: _service { sdl } }')).toThrow(/_service once/);
    const types = Array.from({ length: 11 }, (_, i) => `t${i}: __type(name: "Query") { ...T }`).join(' ');
    expect(() => read(`{ ${types} } fragment T on __Type { name }`)).toThrow(/__type 10 times; this one selects it 11 times/);
  });

  it('refuses aliases below them, which repeat the work, and other directives than @skip and @include', () => {
    expect(() => read('{ __schema { a: types { name } b: types { name } } }')).toThrow(/may not alias its fields \("a: types"\)/);
    expect(() => read('{ __type(name: "Query") { fields { a: args { name } } } }')).toThrow(/may not alias/);
    expect(() => read('{ _service { a: sdl b: sdl } }')).toThrow(/may not alias/);
    expect(read('{ __type(name: "Query") { name @include(if: true) fields @skip(if: false) { name } } }')).toEqual({ schema: 0, types: 1, service: 0 });
    expect(() => read('{ __type(name: "Query") { fields @flatten { name } } }')).toThrow(/@flatten does not apply/);
  });

  it('refuses expanding a type reached as a reference, which would multiply the schema by itself at every level', () => {
    expect(() => read('{ __type(name: "Patient") { fields { type { fields { name } } } } }')).toThrow(/only name a type .* not select its "fields"/);
    expect(() => read('{ __schema { types { fields { type { ofType { ofType { fields { name } } } } } } } }')).toThrow(/not select its "fields"/);
    expect(() => read('{ __schema { types { possibleTypes { interfaces { name } } } } }')).toThrow(/not select its "interfaces"/);
    expect(() => read('{ __schema { queryType { fields { name } } } }')).toThrow(/not select its "fields"/);
    expect(() => read('{ __schema { types { fields { type { ...Full } } } } } fragment Full on __Type { enumValues { name } }')).toThrow(/not select its "enumValues"/);
    // The same fragment is fine where it stands for a whole type.
    expect(read('{ __schema { types { ...Full } } } fragment Full on __Type { enumValues { name } }')).toEqual({ schema: 1, types: 0, service: 0 });
  });
});

describe('the schema worker', () => {
  it('answers the full introspection exactly as the served schema does, admin and Federation parts included', async () => {
    const served = await execute({ schema: buildExecutableSchema(t.server.service), document: parse(FULL_QUERY) });
    expect(served.errors).toBeUndefined();
    const res = await post(t, FULL_QUERY, { 'accept-encoding': 'gzip' });
    expect(res.response.status).toBe(200);
    const answered = JSON.parse(res.bytes.toString('utf8'));
    expect(answered.errors).toBeUndefined();
    const names = answered.data.__schema.types.map((type: any) => type.name);
    expect(names).toEqual(expect.arrayContaining(['Patient', 'Client_Summary', '_Service', '_Entity', '_Any']));
    expect(answered.data).toEqual(JSON.parse(JSON.stringify(served.data)));
  }, 120_000);

  it('answers _service { sdl } with the subgraph SDL, and __type with any type of the served schema', async () => {
    const res = await post(t, 'query __ApolloGetServiceDefinition__ { _service { sdl } }');
    expect(JSON.parse(res.bytes.toString('utf8'))).toEqual({ data: { _service: { sdl: subgraphSdl(t.server.service.model) } } });
    const admin = JSON.parse((await post(t, '{ __type(name: "Client_Summary") { name fields { name } } }')).bytes.toString('utf8'));
    expect(admin.data.__type.fields.map((f: any) => f.name)).toContain('client_id');
  }, 60_000);

  it('refuses invalid variables with BAD_USER_INPUT before the worker sees them', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` },
      body: JSON.stringify({ query: 'query($n: String!) { __type(name: $n) { name } }', variables: { n: 5 } }),
    });
    expect(res.status).toBe(400);
    const body = await res.json() as any;
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const ok = await fetch(`${t.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` },
      body: JSON.stringify({ query: 'query($n: String!) { __type(name: $n) { name } }', variables: { n: 'Patient' } }),
    });
    expect(await ok.json()).toEqual({ data: { __type: { name: 'Patient' } } });
  });

  it('answers introspection over GET, as Apollo does (a bearer token satisfies CSRF prevention)', async () => {
    const url = `${t.url}/graphql?query=${encodeURIComponent('{ __type(name: "Patient") { name } }')}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __type: { name: 'Patient' } } });
  });
});

describe('introspection over HTTP', () => {
  it('answers getIntrospectionQuery() over POST with the FHIR types; a second call is equal', async () => {
    const first = await post(t, QUERY);
    expect(first.response.status).toBe(200);
    const body = JSON.parse(first.bytes.toString('utf8'));
    expect(body.errors).toBeUndefined();
    expect(body.data.__schema.types.map((type: any) => type.name)).toContain('Patient');
    const second = await post(t, QUERY);
    const again = JSON.parse(second.bytes.toString('utf8'));
    expect(again.data).toEqual(body.data);
    console.info(`[introspection] HTTP uncompressed: first ${first.ms.toFixed(1)} ms, second ${second.ms.toFixed(1)} ms, ${(first.bytes.length / 1e6).toFixed(2)} MB`);
  }, 60_000);

  it('is compressed for a client that accepts gzip', async () => {
    const res = await post(t, QUERY, { 'accept-encoding': 'gzip' });
    expect(res.response.status).toBe(200);
    expect(res.response.headers.get('content-encoding')).toBe('gzip');
    // fetch decodes gzip itself; the body must still be the full result.
    const body = JSON.parse(res.bytes.toString('utf8'));
    expect(body.data.__schema.types.length).toBeGreaterThan(1000);
    const raw = await rawGzipSize(t, QUERY);
    console.info(`[introspection] HTTP gzip: ${res.ms.toFixed(1)} ms, ${(raw.compressed / 1e6).toFixed(2)} MB on the wire for ${(raw.plain / 1e6).toFixed(2)} MB`);
    expect(raw.compressed).toBeLessThan(raw.plain / 4);
  }, 60_000);

  it('serves a repeated introspection from bytes gzipped once, with a Content-Length', async () => {
    await post(t, QUERY, { 'accept-encoding': 'gzip' });
    let res = await post(t, QUERY, { 'accept-encoding': 'gzip' });
    for (let i = 0; i < 50 && !res.response.headers.get('content-length'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await post(t, QUERY, { 'accept-encoding': 'gzip' });
    }
    // A streamed (per-request) compression has no length; the kept gzip bytes do.
    expect(res.response.headers.get('content-encoding')).toBe('gzip');
    expect(Number(res.response.headers.get('content-length'))).toBeGreaterThan(100_000);
    const plain = await post(t, QUERY, { 'accept-encoding': 'identity' });
    expect(plain.response.headers.get('content-encoding')).toBeNull();
    expect(JSON.parse(res.bytes.toString('utf8'))).toEqual(JSON.parse(plain.bytes.toString('utf8')));
    console.info(`[introspection] kept bytes: gzip ${res.ms.toFixed(1)} ms, plain ${plain.ms.toFixed(1)} ms`);
  }, 60_000);

  it('refuses introspection when GRAPHQL_INTROSPECTION=false', async () => {
    const closed = await startTestServer({ graphql: { ...loadConfig({}).graphql, introspection: false } });
    try {
      const res = await post(closed, QUERY);
      const body = JSON.parse(res.bytes.toString('utf8'));
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0].message).toMatch(/introspection/i);
      expect(res.bytes.toString('utf8')).not.toContain('"Patient"');
      // Data queries still work.
      const data = await post(closed, '{ PatientList(_count: 1) { id } }');
      expect(JSON.parse(data.bytes.toString('utf8')).data.PatientList).toEqual([]);
    } finally {
      await closed.close();
    }
  }, 60_000);
});

/** The compressed size on the wire, read with node:http so the body is not decoded. */
async function rawGzipSize(server: TestServer, query: string): Promise<{ compressed: number; plain: number }> {
  const { request } = await import('node:http');
  const payload = JSON.stringify({ query });
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip', authorization: `Bearer ${server.adminToken}`, 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const compressed = Buffer.concat(chunks);
        resolve({ compressed: compressed.length, plain: gunzipSync(compressed).length });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

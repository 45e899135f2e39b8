/**
 * Introspection (issue 5, "Protection"): on by default, refused when configured off, its full
 * result built once and cached (`introspectionCachePlugin`), and served compressed by the app.
 * The cache is checked on an Apollo Server built here over the real schema, so the test holds
 * whether or not `graphql-server.ts` has the plugin yet; the HTTP tests go through the real server.
 */
import { ApolloServer } from '@apollo/server';
import { getIntrospectionQuery, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { buildExecutableSchema } from '../../src/graphql/graphql-server.ts';
import { introspectionCachePlugin, isIntrospectionOnly } from '../../src/graphql/introspection-cache.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const QUERY = getIntrospectionQuery();

async function post(server: TestServer, query: string, headers: Record<string, string> = {}) {
  const started = performance.now();
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, ...headers }, body: JSON.stringify({ query }),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { response, bytes, ms: performance.now() - started };
}

function operationOf(query: string): OperationDefinitionNode {
  return parse(query).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
}

beforeAll(async () => {
  t = await startTestServer();
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('recognising introspection', () => {
  it('takes the standard IntrospectionQuery and __type, and leaves data queries alone', () => {
    expect(isIntrospectionOnly(operationOf(QUERY))).toBe(true);
    expect(isIntrospectionOnly(operationOf('{ __type(name: "Patient") { name } }'))).toBe(true);
    expect(isIntrospectionOnly(operationOf('{ __schema { queryType { name } } PatientList { id } }'))).toBe(false);
    expect(isIntrospectionOnly(operationOf('mutation { __typename }'))).toBe(false);
  });
});

describe('the introspection cache plugin', () => {
  it('executes the full introspection once and answers the same result from the cache', async () => {
    const apollo = new ApolloServer({ schema: buildExecutableSchema(t.server.service), plugins: [introspectionCachePlugin] });
    await apollo.start();
    try {
      const run = async () => {
        const started = performance.now();
        const response = await apollo.executeOperation({ query: QUERY });
        const ms = performance.now() - started;
        if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
        return { result: response.body.singleResult, ms };
      };
      const first = await run();
      const second = await run();
      const third = await run();
      expect(first.result.errors).toBeUndefined();
      expect(second.result).toEqual(first.result);
      expect(third.result.data).toBe(second.result.data);
      const types = (first.result.data as any).__schema.types.map((type: any) => type.name);
      expect(types).toContain('Patient');
      console.info(`[introspection] execute: first ${first.ms.toFixed(1)} ms, cached ${second.ms.toFixed(1)} ms, ${third.ms.toFixed(1)} ms; ${types.length} types`);
      expect(second.ms).toBeLessThan(first.ms);
    } finally {
      await apollo.stop();
    }
  });

  it('never answers from the cache when introspection is turned off', async () => {
    const schema = buildExecutableSchema(t.server.service);
    const on = new ApolloServer({ schema, plugins: [introspectionCachePlugin] });
    const off = new ApolloServer({ schema, introspection: false, plugins: [introspectionCachePlugin] });
    await Promise.all([on.start(), off.start()]);
    try {
      await on.executeOperation({ query: QUERY }); // warms the cache for this schema
      const refused = await off.executeOperation({ query: QUERY });
      if (refused.body.kind !== 'single') throw new Error('unexpected incremental response');
      expect(refused.body.singleResult.data).toBeUndefined();
      expect(refused.body.singleResult.errors?.[0].message).toMatch(/introspection/i);
    } finally {
      await Promise.all([on.stop(), off.stop()]);
    }
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

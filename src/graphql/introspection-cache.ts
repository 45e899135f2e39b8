/**
 * Introspection built once: the first answer to an introspection-only operation (every root field
 * is `__schema`, `__type` or `__typename`, as in graphql-js's `getIntrospectionQuery()`) is kept
 * per schema and per hash of the query text, operation name and variables, and later requests get
 * it from Apollo's `responseForOperation` hook without executing. The FHIR schema's introspection
 * runs to tens of megabytes (issue 5), so each kept answer is also serialised and gzipped once, in
 * the background, and a later POST of the same query is answered with those bytes before Apollo
 * sees it (`cachedIntrospectionBody`): no execution, no serialisation, no compression per request.
 * Turning introspection off (`GRAPHQL_INTROSPECTION=false`) still refuses it: Apollo's validation
 * runs before this hook. https://spec.graphql.org/October2021/#sec-Introspection
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { HeaderMap, type ApolloServerPlugin, type BaseContext, type GraphQLResponse } from '@apollo/server';
import { Kind, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';

type CachedResult = {
  data: Record<string, unknown>;
  /** `{"data":…}` as sent, and gzipped; set once the background serialisation has finished. */
  bytes?: { json: Buffer; gzip: Buffer };
};

const gzip = promisify(gzipCallback);

/** How many distinct introspection queries a schema keeps (clients send one or two shapes); each
 * full answer holds ~23 MB of JSON beside its objects, so few. */
const MAX_ENTRIES_PER_SCHEMA = 4;

const cache = new WeakMap<GraphQLSchema, Map<string, CachedResult>>();

/** True for a query whose root selections are all introspection meta-fields. */
export function isIntrospectionOnly(operation: OperationDefinitionNode | undefined): boolean {
  if (!operation || operation.operation !== 'query' || operation.selectionSet.selections.length === 0) return false;
  return operation.selectionSet.selections.every(
    (selection) => selection.kind === Kind.FIELD && !selection.directives?.length && selection.name.value.startsWith('__'),
  );
}

function keyOf(query: string, operationName: string | null | undefined, variables: unknown): string {
  return createHash('sha256').update(query).update('\0').update(operationName ?? '').update('\0').update(JSON.stringify(variables ?? {})).digest('hex');
}

function entriesFor(schema: GraphQLSchema): Map<string, CachedResult> {
  let entries = cache.get(schema);
  if (!entries) {
    entries = new Map();
    cache.set(schema, entries);
  }
  return entries;
}

/**
 * The Apollo plugin. Cached answers are shallow copies, so a later plugin that adds
 * `extensions` to the response never alters the cache.
 */
export const introspectionCachePlugin: ApolloServerPlugin<BaseContext> = {
  async requestDidStart() {
    let key: string | undefined;
    return {
      async responseForOperation({ operation, request, schema }): Promise<GraphQLResponse | null> {
        if (!isIntrospectionOnly(operation) || typeof request.query !== 'string') return null;
        key = keyOf(request.query, request.operationName, request.variables);
        const cached = cache.get(schema)?.get(key);
        if (!cached) return null;
        return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: cached.data } } };
      },
      async willSendResponse({ response, schema }) {
        if (!key || response.body.kind !== 'single') return;
        const { data, errors } = response.body.singleResult;
        if (!data || errors?.length) return;
        const entries = entriesFor(schema);
        if (entries.has(key)) return;
        if (entries.size >= MAX_ENTRIES_PER_SCHEMA) entries.delete(entries.keys().next().value!);
        const entry: CachedResult = { data };
        entries.set(key, entry);
        void serialise(entry);
      },
    };
  },
};

/** Serialises and gzips a kept answer off the request path (zlib runs on the thread pool). */
async function serialise(entry: CachedResult): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  const json = Buffer.from(JSON.stringify({ data: entry.data }));
  entry.bytes = { json, gzip: await gzip(json, { level: 6 }) };
}

/**
 * The serialised answer kept for a POSTed GraphQL body, if its query was answered (and cached)
 * before: `{"data":…}` as JSON and gzipped. Only a body that an earlier introspection-only
 * request had exactly (query, operation name, variables) can match, so the caller needs no
 * parsing; it must still check that introspection is on.
 */
export function cachedIntrospectionBody(schema: GraphQLSchema, body: unknown): { json: Buffer; gzip: Buffer } | undefined {
  const entries = cache.get(schema);
  if (!entries || typeof body !== 'object' || body === null) return undefined;
  const { query, operationName, variables } = body as Record<string, unknown>;
  // Every introspection-only query names a `__` field; other queries skip the hash.
  if (typeof query !== 'string' || !query.includes('__')) return undefined;
  return entries.get(keyOf(query, operationName as string | undefined, variables))?.bytes;
}

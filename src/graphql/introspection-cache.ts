/**
 * Introspection built once: the first answer to an introspection-only operation (every root field
 * is `__schema`, `__type` or `__typename`, as in graphql-js's `getIntrospectionQuery()`) is kept
 * per schema and per hash of the query text, operation name and variables, and later requests get
 * it from Apollo's `responseForOperation` hook without executing. The FHIR schema's introspection
 * runs to tens of megabytes (issue 5); the app's `@fastify/compress` compresses it on the way out.
 * Turning introspection off (`GRAPHQL_INTROSPECTION=false`) still refuses it: Apollo's validation
 * runs before this hook. https://spec.graphql.org/October2021/#sec-Introspection
 */
import { createHash } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin, type BaseContext, type GraphQLResponse } from '@apollo/server';
import { Kind, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';

type CachedResult = { data: Record<string, unknown> };

/** How many distinct introspection queries a schema keeps (clients send one or two shapes). */
const MAX_ENTRIES_PER_SCHEMA = 16;

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
        entries.set(key, { data });
      },
    };
  },
};

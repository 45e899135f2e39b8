/**
 * An HTTP request to a GraphQL endpoint as the GraphQL-over-HTTP request Apollo runs: a GET's
 * `query`, `operationName` and `variables` from the URL; a POST's JSON body (parsed keeping each
 * number's exact digits, DECISIONS.md §3) or, with `Content-Type: application/graphql`, the body
 * as the query itself; and, at `/fhir/{type}/{id}/$graphql`, the query rewritten so its root is
 * that resource (https://hl7.org/fhir/R4/graphql.html#invoking: "GraphQL can be invoked by get
 * with a query parameter, or a POST with the graphQL as the body, or a JSON body").
 */
import { HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyRequest } from 'fastify';
import { Kind, parse, print, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { badRequest } from '../fhir/outcomes.ts';

/** The media type of a POST whose body is the query text. */
export const GRAPHQL_MEDIA_TYPE = 'application/graphql';

/** The resource an instance-level `$graphql` query starts from. */
export interface GraphQLRoot {
  type: string;
  id: string;
}

/** True for the paths that serve the graph (`/graphql`, `/fhir/$graphql`, `/fhir/{type}/{id}/$graphql`). */
export function isGraphQLPath(path: string): boolean {
  return path === '/graphql' || (path.startsWith('/fhir/') && path.endsWith('/$graphql'));
}

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * `query` rewritten so that each query operation selects its fields on the resource `root`
 * (aliased `resource`, which the response plugin unwraps). Mutations are left as they are.
 */
function rootedQuery(root: GraphQLRoot, query: unknown, maxTokens: number): string {
  if (typeof query !== 'string') throw badRequest('A GraphQL request needs a "query"');
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens });
  } catch (err) {
    throw badRequest(`The GraphQL query does not parse: ${(err as Error).message.slice(0, 200)}`);
  }
  const definitions = document.definitions.map((definition) => {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'query') return definition;
    const wrapped: OperationDefinitionNode = {
      ...definition,
      selectionSet: {
        kind: Kind.SELECTION_SET,
        selections: [{
          kind: Kind.FIELD,
          alias: { kind: Kind.NAME, value: 'resource' },
          name: { kind: Kind.NAME, value: root.type },
          arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: '_id' }, value: { kind: Kind.STRING, value: root.id } }],
          selectionSet: definition.selectionSet,
        }],
      },
    };
    return wrapped;
  });
  return print({ ...document, definitions });
}

/** The body of a POST as a GraphQL request object: JSON text parsed exactly, or the query text itself. */
function postBody(request: FastifyRequest): unknown {
  const body = request.body;
  if (typeof body !== 'string') return body;
  if (mediaType(request) === GRAPHQL_MEDIA_TYPE) return { query: body };
  try {
    return parseFhirJson(body);
  } catch {
    throw badRequest('The GraphQL request body is not valid JSON');
  }
}

function headersOf(request: FastifyRequest): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/**
 * The GraphQL-over-HTTP request for `request` (rooted at `root` on the instance endpoint); throws
 * 400 for a body that is not JSON, or an instance-level request whose query is missing or does
 * not parse. Apollo checks the rest (a GET runs queries only: 405 otherwise).
 */
export function graphqlRequestOf(request: FastifyRequest, root: GraphQLRoot | undefined, maxTokens: number): HTTPGraphQLRequest {
  const headers = headersOf(request);
  const query = request.url.indexOf('?');
  const search = query === -1 ? '' : request.url.slice(query);
  if (request.method !== 'POST') {
    if (!root) return { method: request.method, headers, search, body: undefined };
    const params = new URLSearchParams(search);
    params.set('query', rootedQuery(root, params.get('query') ?? undefined, maxTokens));
    return { method: request.method, headers, search: `?${params}`, body: undefined };
  }
  let body = postBody(request);
  if (root) {
    const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? body as Record<string, unknown> : {};
    body = { ...fields, query: rootedQuery(root, fields.query, maxTokens) };
  }
  return { method: 'POST', headers, search, body };
}

/**
 * The answers to operations that ask the schema (`__schema`, `__type`, `_service`,
 * `schema-operation.ts`), which the main thread never executes: the Apollo plugin hands such an
 * operation, once validated, costed and charged, to the schema worker (`schema-worker.ts`) and
 * the route sends the worker's bytes as they are (gzipped when the client accepts it), with no
 * parsing, serialisation or compression on this thread. The FHIR schema's introspection is 23 MB
 * of JSON (issue 5); executing it here blocked the event loop 2.5 s (review #3).
 *
 * Answers are kept per exact request (query text, operation name and variables), the most
 * recently used {@link MAX_KEPT} of them, gzipped only (the full introspection is ~650 KB so; a
 * client that does not take gzip gets it inflated on the thread pool), and a POST of a kept text
 * is answered before Apollo sees it (`keptFor`). Only this server's answers are kept, so a text is
 * found only if this server validated and answered it: turning introspection off
 * (`GRAPHQL_INTROSPECTION=false`) still refuses it. Identical requests in flight share one job.
 * An answer from the worker carries no `extensions`.
 * https://spec.graphql.org/October2021/#sec-Introspection
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { HeaderMap, type ApolloServerPlugin, type GraphQLResponse } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { getVariableValues, GraphQLError } from 'graphql';
import { FhirError } from '../fhir/outcomes.ts';
import { toGraphQLError } from './graphql-errors.ts';
import type { GraphQLContext } from './request-loaders.ts';
import { readSchemaOperation } from './schema-operation.ts';
import type { KeptAnswer } from './kept-answer.ts';
import type { SchemaQuery, SchemaWorker } from './schema-worker.ts';

/** Requests whose answers are kept (each ~650 KB gzipped at most). */
export const MAX_KEPT = 32;

const gunzip = promisify(gunzipCallback);

function keyOf(query: string, operationName: string | null | undefined, variables: unknown): string {
  return createHash('sha256').update(query).update('\0').update(operationName ?? '').update('\0').update(JSON.stringify(variables ?? {})).digest('hex');
}

/** The kept answers and the worker behind them. */
export class SchemaAnswers {
  private readonly kept = new Map<string, KeptAnswer>();
  private readonly inFlight = new Map<string, Promise<KeptAnswer>>();

  constructor(private readonly worker: SchemaWorker) {}

  /**
   * The kept answer for a POSTed GraphQL body, if this server answered exactly that request
   * before; no parsing (every query asking the schema names `__` or `_service`).
   */
  keptFor(body: unknown): KeptAnswer | undefined {
    if (this.kept.size === 0 || typeof body !== 'object' || body === null) return undefined;
    const { query, operationName, variables } = body as Record<string, unknown>;
    if (typeof query !== 'string' || !(query.includes('__') || query.includes('_service'))) return undefined;
    return this.use(keyOf(query, operationName as string | undefined, variables));
  }

  /** Answers `query` for `client`: kept, shared with an identical request in flight, or from the worker (503 when it is busy). */
  async answer(client: string, query: SchemaQuery): Promise<KeptAnswer> {
    const key = keyOf(query.query, query.operationName, query.variables);
    const known = this.use(key) ?? this.inFlight.get(key);
    if (known) return known;
    const job = this.worker.run(client, query).then((answer) => {
      const kept: KeptAnswer = answer.gzip ? { gzip: answer.gzip, failed: answer.failed } : { json: answer.json, failed: answer.failed };
      if (!answer.failed) this.keep(key, kept);
      // The first requester gets the plain bytes too, sparing it an inflate.
      return { ...kept, json: answer.json };
    });
    this.inFlight.set(key, job);
    try {
      return await job;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private use(key: string): KeptAnswer | undefined {
    const answer = this.kept.get(key);
    if (answer) {
      this.kept.delete(key);
      this.kept.set(key, answer);
    }
    return answer;
  }

  private keep(key: string, answer: KeptAnswer): void {
    this.kept.set(key, answer);
    if (this.kept.size > MAX_KEPT) this.kept.delete(this.kept.keys().next().value!);
  }
}

/** A response Apollo sends instead of executing: `errors` only, with the status and headers they call for. */
function refusal(err: unknown): GraphQLResponse {
  if (err instanceof FhirError) {
    const headers = new HeaderMap(Object.entries(err.headers).map(([name, value]) => [name.toLowerCase(), value]));
    return { http: { status: err.status, headers }, body: { kind: 'single', singleResult: { errors: [{ message: err.message, extensions: toGraphQLError(err).extensions }] } } };
  }
  const error = err instanceof GraphQLError ? err : new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  const status = error.extensions.code === 'BAD_USER_INPUT' ? 400 : 500;
  const { http: _http, ...extensions } = error.extensions;
  return { http: { status, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { errors: [{ ...error.toJSON(), extensions }] } } };
}

/**
 * The Apollo plugin: an operation asking the schema (validated, costed and charged by then) is
 * answered by the worker, and `contextValue.exchange.schemaAnswer` holds the bytes the route sends; the
 * request's gate slot is given back while the worker works. Variables are coerced here, as
 * execution would, so the worker only sees valid ones.
 */
export function schemaAnswerPlugin(answers: SchemaAnswers): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async responseForOperation({ schema, document, operation, request, source, contextValue }): Promise<GraphQLResponse | null> {
          try {
            if (!operation || !readSchemaOperation(schema, document, operation)) return null;
            const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {}, { maxErrors: 5 });
            if (coerced.errors) {
              const [first] = coerced.errors;
              return refusal(new GraphQLError(first.message, { nodes: first.nodes, extensions: { code: 'BAD_USER_INPUT' } }));
            }
            contextValue.exchange?.releaseSlot();
            const answer = await answers.answer(contextValue.ctx.auth.clientId, { query: source, operationName: request.operationName ?? undefined, variables: request.variables });
            if (answer.failed) contextValue.ctx.audit.failure = { status: 500, description: 'GraphQL INTERNAL_SERVER_ERROR: the schema worker answered with errors' };
            if (contextValue.exchange) contextValue.exchange.schemaAnswer = answer;
            return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: null } } };
          } catch (err) {
            return refusal(err);
          }
        },
      };
    },
  };
}

/** Sends a schema answer's bytes: gzipped when the client accepts gzip, else plain (inflated off this thread if only gzip is kept). */
export async function sendSchemaAnswer(request: FastifyRequest, reply: FastifyReply, answer: KeptAnswer): Promise<FastifyReply> {
  reply.header('content-type', 'application/json; charset=utf-8').header('vary', 'accept-encoding');
  if (answer.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(answer.gzip);
  return reply.send(answer.json ?? (await gunzip(answer.gzip!)));
}

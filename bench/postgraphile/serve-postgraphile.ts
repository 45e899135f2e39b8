/**
 * The PostGraphile 4 side of the benchmark, run as its own process:
 *
 * ```sh
 * DATABASE_URL=… PORT=0 JWT_PUBLIC_KEY_PEM="$(…)" JWT_ISSUER=http://127.0.0.1:8080 \
 *   node --import tsx bench/postgraphile/serve-postgraphile.ts
 * ```
 *
 * It serves the relational copy (`PG_SCHEMA`, default `bench_relational`, see
 * `relational-copy.ts`) at `POST /graphql` on a plain `node:http` server (`HOST`, default
 * 127.0.0.1), with production options (no GraphiQL, no query log, no batching, no schema watch),
 * and prints one line `listening http://HOST:PORT` on stdout once the schema is built. SIGTERM
 * or SIGINT closes it.
 *
 * Authentication is fhirgraph's (DECISIONS.md §10): PostGraphile verifies the bearer token itself
 * (`jwtPublicKey` = fhirgraph's ES256 signing key, `iss` and `aud` = `JWT_ISSUER`, exactly the
 * claims `src/auth/access-tokens.ts` checks), once per request. PostGraphile 4 alone would serve a
 * request without a token anonymously, so a request without `Authorization: Bearer …` is refused
 * here with 401 before it reaches PostGraphile (a header check, no second verification), and a
 * token PostGraphile rejects answers 401 like fhirgraph rather than PostGraphile's 403.
 * https://www.graphile.org/postgraphile/usage-library/  https://www.graphile.org/postgraphile/jwt-guide/
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { PostGraphileOptions } from 'postgraphile';
import { loadPostgraphile } from './load-postgraphile.ts';

/** What the process reads from its environment (read once, here). */
export interface ServePostgraphileConfig {
  databaseUrl: string;
  host: string;
  port: number;
  schema: string;
  jwtPublicKeyPem: string;
  jwtIssuer: string;
}

/** fhirgraph's access tokens are ES256 only (`ACCESS_TOKEN_ALG`). */
const ACCESS_TOKEN_ALG = 'ES256';
/** The same shape fhirgraph requires of the header before it verifies anything. */
const BEARER = /^\s*Bearer\s+[A-Za-z0-9\-_.~+/]+=*\s*$/i;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** Reads and checks the environment; throws a message naming the missing or bad variable. */
export function readServeConfig(env: NodeJS.ProcessEnv = process.env): ServePostgraphileConfig {
  const port = Number(env.PORT ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT "${env.PORT}" is not a port number`);
  const jwtPublicKeyPem = required(env, 'JWT_PUBLIC_KEY_PEM').replace(/\\n/g, '\n');
  if (!jwtPublicKeyPem.includes('-----BEGIN PUBLIC KEY-----')) throw new Error('JWT_PUBLIC_KEY_PEM is not an SPKI PEM (-----BEGIN PUBLIC KEY-----)');
  return {
    databaseUrl: required(env, 'DATABASE_URL'),
    host: env.HOST || '127.0.0.1',
    port,
    schema: env.PG_SCHEMA || 'bench_relational',
    jwtPublicKeyPem,
    jwtIssuer: required(env, 'JWT_ISSUER'),
  };
}

/** Production options, plus fhirgraph's token verification. */
export async function postgraphileOptions(config: ServePostgraphileConfig): Promise<PostGraphileOptions> {
  const { makePluginHook } = await loadPostgraphile();
  return {
    graphiql: false,
    watchPg: false,
    disableQueryLog: true,
    enableQueryBatching: false,
    dynamicJson: true,
    setofFunctionsContainNulls: false,
    ignoreRBAC: false,
    legacyRelations: 'omit',
    retryOnInitFail: false,
    jwtPublicKey: config.jwtPublicKeyPem,
    jwtVerifyOptions: { algorithms: [ACCESS_TOKEN_ALG], issuer: config.jwtIssuer, audience: config.jwtIssuer },
    pluginHook: makePluginHook([{
      // PostGraphile answers 403 to a token that fails verification (401 only when expired); the
      // schema grants everything else, so a 403 here is always a refused token: answer as fhirgraph.
      'postgraphile:http:end': (end, context: { res?: ServerResponse }) => {
        if (end.statusCode !== 403) return end;
        context.res?.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
        return { ...end, statusCode: 401 };
      },
    }]),
  };
}

/** 401 with a GraphQL error body, for a request that carries no bearer token at all. */
function refuseUnauthenticated(res: ServerResponse): void {
  const body = JSON.stringify({ errors: [{ message: 'An access token is required (Authorization: Bearer …)', extensions: { code: 'UNAUTHENTICATED' } }] });
  res.writeHead(401, { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts the server; resolves with its URL and a `close` that also ends the pool. */
export async function servePostgraphile(config: ServePostgraphileConfig): Promise<{ url: string; close(): Promise<void> }> {
  const { postgraphile } = await loadPostgraphile();
  const middleware = postgraphile(config.databaseUrl, config.schema, await postgraphileOptions(config));
  // Build the schema before announcing readiness, so the first measured request does not pay for it.
  const schema = await middleware.getGraphQLSchema();
  if (!schema.getQueryType()?.getFields().allPatients) {
    await middleware.release();
    throw new Error(`schema "${config.schema}" has no patient table: build it first (buildRelationalCopy)`);
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const authorization = req.headers.authorization;
    if (typeof authorization !== 'string' || !BEARER.test(authorization)) return refuseUnauthenticated(res);
    middleware(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await middleware.release();
    },
  };
}

async function main(): Promise<void> {
  const running = await servePostgraphile(readServeConfig());
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    running.close().then(() => process.exit(0), (err) => {
      console.error(err);
      process.exit(1);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`listening ${running.url}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

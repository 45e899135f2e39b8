/**
 * Loads PostGraphile 4 with the one `graphql` it is built for (15, nested under
 * `node_modules/postgraphile`). npm hoists `graphql-parse-resolve-info` (a PostGraphile
 * dependency whose range also admits graphql 16) next to fhirgraph's graphql 16, so out of the box
 * it hands PostGraphile's graphql 15 types to graphql 16's `getArgumentValues`, and every query
 * with an argument fails with "Cannot use GraphQLScalarType "Int" from another module or realm"
 * (https://github.com/graphql/graphql-js/blob/v16.8.0/src/jsutils/instanceOf.ts).
 *
 * Until the install pins it (an npm `overrides` entry), this process resolves `graphql` for those
 * hoisted PostGraphile dependencies from PostGraphile's own folder. Only `require`s coming from
 * the packages named below are redirected, so fhirgraph code loaded in the same process keeps
 * graphql 16.
 */
import Module, { createRequire } from 'node:module';
import path from 'node:path';

/** Hoisted PostGraphile dependencies that `require('graphql')` themselves. */
const HOISTED_GRAPHQL_USERS = ['graphql-parse-resolve-info'];

type ResolveFilename = (request: string, parent: { filename?: string | null } | undefined, ...rest: unknown[]) => string;

let pinned = false;

/** Installs the redirect (once) for `graphql` and `graphql/…` requires from {@link HOISTED_GRAPHQL_USERS}. */
function pinGraphqlForPostgraphile(): void {
  if (pinned) return;
  pinned = true;
  const require = createRequire(import.meta.url);
  const postgraphileDir = path.dirname(require.resolve('postgraphile/package.json'));
  const fromPostgraphile = createRequire(path.join(postgraphileDir, 'package.json'));
  const markers = HOISTED_GRAPHQL_USERS.map((name) => `${path.sep}node_modules${path.sep}${name}${path.sep}`);
  const internals = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = internals._resolveFilename;
  internals._resolveFilename = function resolveFilename(request, parent, ...rest) {
    const isGraphql = request === 'graphql' || request.startsWith('graphql/');
    if (isGraphql && parent?.filename && markers.some((m) => parent.filename!.includes(m))) return fromPostgraphile.resolve(request);
    return original.call(this, request, parent, ...rest);
  };
}

/** The `postgraphile` module, loaded after {@link pinGraphqlForPostgraphile}. */
export async function loadPostgraphile() {
  pinGraphqlForPostgraphile();
  const { postgraphile, makePluginHook } = await import('postgraphile');
  return { postgraphile, makePluginHook };
}

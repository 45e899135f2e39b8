/**
 * Routes that code outside the product mounts beside the API, through
 * `startServer(config, { extraRoutes })`: the benchmark's raw-SQL baseline
 * (`bench/raw-sql-baseline.ts`), or a test's fixture endpoints. The product never imports them
 * (only `src/` ships): whoever starts the server passes them in.
 */
import type { FastifyInstance } from 'fastify';
import { invariant } from '../fhir/outcomes.ts';
import type { Database } from '../store/database.ts';

/** What extra routes may use: the server's pool and the base URL of its links. */
export interface ExtraRouteDeps {
  db: Database;
  /** `PUBLIC_URL/fhir`, as in `Location` headers and Bundle `fullUrl`s. */
  fhirBaseUrl: string;
}

/**
 * A set of routes under one path prefix, registered in a Fastify context of its own
 * (https://fastify.dev/docs/latest/Reference/Encapsulation/), so none can land outside the
 * prefix. Requests under the prefix skip bearer authentication, the rate limits and the audit
 * trail: the routes must guard themselves (the raw-SQL baseline checks a secret).
 */
export interface ExtraRoutes {
  /** Starts with `/_` (never a product path) and has no trailing slash, e.g. `/_bench/raw`. */
  prefix: string;
  /** Declares the routes, relative to the prefix (`/Patient/:id` for `/_bench/raw/Patient/:id`). */
  register(app: FastifyInstance, deps: ExtraRouteDeps): void | Promise<void>;
}

/**
 * Registers each set under its prefix and returns the path prefixes (with a trailing slash) that
 * the authentication hook must leave to them.
 */
export async function registerExtraRoutes(app: FastifyInstance, sets: readonly ExtraRoutes[], deps: ExtraRouteDeps): Promise<string[]> {
  const prefixes: string[] = [];
  for (const set of sets) {
    invariant(/^\/_[\w-]+(?:\/[\w-]+)*$/.test(set.prefix), `extra routes need a prefix like "/_name", got "${set.prefix}"`);
    await app.register(async (scope) => set.register(scope, deps), { prefix: set.prefix });
    app.log.warn({ prefix: set.prefix }, 'extra routes mounted: no authentication, rate limit or audit under this prefix');
    prefixes.push(`${set.prefix}/`);
  }
  return prefixes;
}

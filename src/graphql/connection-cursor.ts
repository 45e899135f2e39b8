/**
 * The cursors of a `TConnection` (`next`, `previous`): the search service's page cursor together
 * with the arguments of the search it pages (criteria, `_sort`, `_count`, includes), as
 * base64url JSON. So `TConnection(_cursor: $next)` alone pages the same search at the same page
 * size, as a Bundle's `next` link does in REST (https://hl7.org/fhir/R4/graphql.html#searching,
 * https://hl7.org/fhir/R4/http.html#paging); arguments given with a cursor take the place of the
 * ones it carries. `_offset` is not carried: a cursor already says where its page starts.
 *
 * A cursor comes back from the client, so what it carries is checked against the field's own
 * arguments and coerced to their types, exactly as arguments written in the query would be; the
 * cost of the operation is computed from the same arguments (`operation-cost.ts`).
 */
import { coerceInputValue, type GraphQLArgument } from 'graphql';
import { badRequest } from '../fhir/outcomes.ts';

/** Far more than any cursor this server issues (the page cursor inside is bounded the same way). */
const MAX_CURSOR_LENGTH = 64 * 1024;
/** What a cursor does not carry: the cursor itself, and `_offset` (the cursor says where its page starts). */
const NOT_CARRIED = new Set(['_cursor', '_offset']);

/** A decoded connection cursor. */
export interface ConnectionCursor {
  /** The arguments of the search that issued it. */
  args: Record<string, unknown>;
  /** The search service's page cursor (`_cursor` of the REST paging links). */
  page: string;
}

/** Encodes the cursor of a page of the search run with `args`, the service's cursor being `page`. */
export function encodeConnectionCursor(args: Record<string, unknown>, page: string): string {
  const carried = Object.fromEntries(Object.entries(args).filter(([name, value]) => !NOT_CARRIED.has(name) && value !== undefined && value !== null));
  return Buffer.from(JSON.stringify({ a: carried, c: page })).toString('base64url');
}

function refuse(): never {
  throw badRequest('_cursor is not a cursor this server issued for this search', '_cursor');
}

/**
 * Decodes a cursor for a field whose arguments are `fieldArgs`; throws 400 (`BAD_USER_INPUT`)
 * unless it is a cursor of this shape whose arguments are the field's, of the field's types.
 */
export function decodeConnectionCursor(value: string, fieldArgs: readonly GraphQLArgument[]): ConnectionCursor {
  if (value.length > MAX_CURSOR_LENGTH) refuse();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    refuse();
  }
  const { a, c } = (parsed ?? {}) as { a?: unknown; c?: unknown };
  if (typeof c !== 'string' || a === null || typeof a !== 'object' || Array.isArray(a)) refuse();
  const args: Record<string, unknown> = {};
  for (const [name, carried] of Object.entries(a)) {
    const definition = fieldArgs.find((arg) => arg.name === name);
    if (!definition || NOT_CARRIED.has(name)) refuse();
    args[name] = coerceInputValue(carried, definition.type, refuse);
  }
  return { args, page: c };
}

/**
 * The arguments a connection field runs with: those its cursor carries, overridden by those given
 * with it (a `null` drops a carried one), and `_cursor` the service's page cursor. Throws 400 for
 * a cursor this server did not issue.
 */
export function argumentsWithCursor(args: Record<string, unknown>, fieldArgs: readonly GraphQLArgument[]): Record<string, unknown> {
  if (typeof args._cursor !== 'string') return args;
  const cursor = decodeConnectionCursor(args._cursor, fieldArgs);
  const given = Object.fromEntries(Object.entries(args).filter(([, value]) => value !== undefined));
  return { ...cursor.args, ...given, _cursor: cursor.page };
}

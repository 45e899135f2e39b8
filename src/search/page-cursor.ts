/**
 * Keyset paging, one module for search and history (https://hl7.org/fhir/R4/http.html#paging):
 * the `_cursor` a `next` or `previous` link carries (the direction and the key values of the row
 * a page starts after, as base64url JSON), cutting the rows a keyset query returned into the page
 * and its neighbours, and the `self`/`next`/`previous` links. Links keep working while data
 * changes, and a deep page costs what the first one does.
 *
 * A cursor comes back from the client, so every value is checked against its key's SQL type
 * before it reaches PostgreSQL: a forged value (`294277-01-01`, `1e999999`, a NUL) answers 400
 * instead of failing a cast in the database.
 */
import { badRequest } from '../fhir/outcomes.ts';

/** A decoded `_cursor`: the direction and the key values of the row the page starts after. */
export interface PageCursor {
  forward: boolean;
  values: string[];
}

/**
 * The SQL type of a cursor key: search sort keys (`text`, `numeric`, `timestamptz`) and history's
 * sequence number (`bigint`).
 */
export type CursorKeyType = 'text' | 'numeric' | 'timestamptz' | 'bigint';

/** Far more than any cursor this server issues (sort values are index values). */
const MAX_CURSOR_LENGTH = 64 * 1024;
/** PostgreSQL prints numeric without exponent; sentinels of missing values are ±Infinity. */
const NUMERIC = /^-?(?:\d{1,1000}(?:\.\d{1,1000})?|Infinity)$/;
/** A positive bigint (history's `seq`), at most 2^63 - 1. */
const BIGINT = /^[1-9]\d{0,18}$/;
/**
 * PostgreSQL's ISO output of timestamptz (`2024-01-02 03:04:05.123456+00`, any session time zone)
 * or the ±infinity sentinels. Years stop at 99999, far inside its range (294276).
 */
const TIMESTAMPTZ = /^(\d{4,5})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?([+-])(\d{2})(?::(\d{2})(?::(\d{2}))?)?$/;

function isTimestamp(value: string): boolean {
  if (value === 'infinity' || value === '-infinity') return true;
  const m = TIMESTAMPTZ.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const [offsetHours, offsetMinutes, offsetSeconds] = [m[8], m[9] ?? '0', m[10] ?? '0'].map(Number);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const realDay = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return realDay && year >= 1 && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 15 && offsetMinutes <= 59 && offsetSeconds <= 59;
}

/** True when `value` is what PostgreSQL would print for a key of `type`. */
function fitsType(value: string, type: CursorKeyType): boolean {
  switch (type) {
    case 'text': return !value.includes('\u0000');
    case 'numeric': return NUMERIC.test(value);
    case 'timestamptz': return isTimestamp(value);
    case 'bigint': return BIGINT.test(value) && BigInt(value) <= 9223372036854775807n;
  }
}

/** Decodes `_cursor` for a query whose keys have `keyTypes`; 400 unless it fits them. */
export function decodePageCursor(value: string | undefined, keyTypes: CursorKeyType[]): PageCursor | undefined {
  if (value === undefined) return undefined;
  if (value.length <= MAX_CURSOR_LENGTH) {
    try {
      const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { f?: unknown; v?: unknown };
      const values = parsed.v;
      if (typeof parsed.f === 'boolean' && Array.isArray(values) && values.length === keyTypes.length
        && values.every((v, i) => typeof v === 'string' && fitsType(v, keyTypes[i]))) {
        return { forward: parsed.f, values: values as string[] };
      }
    } catch {
      // fall through
    }
  }
  throw badRequest('_cursor is not a cursor this server issued for this request', '_cursor');
}

/** Encodes the cursor of a page boundary row (its key values `values`). */
export function encodePageCursor(values: string[], forward: boolean): string {
  return Buffer.from(JSON.stringify({ f: forward, v: values })).toString('base64url');
}

/** A page cut from keyset rows, in display order, and whether pages lie either side of it. */
export interface Page<T> {
  rows: T[];
  hasNext: boolean;
  hasPrevious: boolean;
}

/**
 * Cuts the rows a keyset query returned — at most `count + 1`, in query order, which is reversed
 * when paging backwards — into the page (in display order) and its neighbours.
 */
export function cutPage<T>(rows: T[], count: number, cursor: PageCursor | undefined): Page<T> {
  const forward = cursor?.forward ?? true;
  const more = rows.length > count;
  const page = rows.slice(0, count);
  if (!forward) page.reverse();
  return { rows: page, hasNext: forward ? more : true, hasPrevious: forward ? cursor !== undefined : more };
}

/**
 * The Bundle links of a page: `self` (with the cursor the request came with), `next` and
 * `previous`; `urlFor` builds the URL for a cursor, `keysOf` a row's key values.
 */
export function pageLinks<T>(
  page: Page<T>, currentCursor: string | undefined, urlFor: (cursor?: string) => string, keysOf: (row: T) => string[],
): { relation: string; url: string }[] {
  const links = [{ relation: 'self', url: urlFor(currentCursor) }];
  const { rows } = page;
  if (rows.length > 0 && page.hasNext) links.push({ relation: 'next', url: urlFor(encodePageCursor(keysOf(rows[rows.length - 1]), true)) });
  if (rows.length > 0 && page.hasPrevious) links.push({ relation: 'previous', url: urlFor(encodePageCursor(keysOf(rows[0]), false)) });
  return links;
}

/**
 * The keyset cursor of search paging links (`_cursor`): the direction and the sort-key values of
 * the row a page starts after, as base64url JSON. A cursor comes back from the client, so every
 * value is checked against its sort key's SQL type before it reaches PostgreSQL: a forged value
 * (`294277-01-01`, `1e999999`, a NUL) answers 400 instead of failing a cast in the database.
 * https://hl7.org/fhir/R4/http.html#paging
 */
import { badRequest } from '../fhir/outcomes.ts';
import type { PageCursor } from './sql/build-search-query.ts';
import type { SortExpression } from './sql/sort-keys.ts';

/** Far more than any cursor this server issues (sort values are index values). */
const MAX_CURSOR_LENGTH = 64 * 1024;
/** PostgreSQL prints numeric without exponent; sentinels of missing values are ±Infinity. */
const NUMERIC = /^-?(?:\d{1,1000}(?:\.\d{1,1000})?|Infinity)$/;
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

/** True when `value` is what PostgreSQL would print for a sort key of `type`. */
function fitsType(value: string, type: SortExpression['type']): boolean {
  switch (type) {
    case 'text': return !value.includes('\u0000');
    case 'numeric': return NUMERIC.test(value);
    case 'timestamptz': return isTimestamp(value);
  }
}

/** Decodes `_cursor` for a search whose sort keys have `keyTypes`; 400 unless it fits them. */
export function decodePageCursor(value: string | undefined, keyTypes: SortExpression['type'][]): PageCursor | undefined {
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
  throw badRequest('_cursor is not a cursor this server issued for this search', '_cursor');
}

/** Encodes the cursor of a page boundary row (its sort-key values `values`). */
export function encodePageCursor(values: string[], forward: boolean): string {
  return Buffer.from(JSON.stringify({ f: forward, v: values })).toString('base64url');
}

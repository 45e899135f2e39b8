/**
 * Parsing search values (https://hl7.org/fhir/R4/search.html): escaping (`\,` `\$` `\|` `\\`),
 * comma-separated OR lists, comparison prefixes, and the implicit ranges of dates and numbers
 * that a value's precision gives (`2024` is the whole year, `100` is [99.5, 100.5]).
 */

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
const PREFIXES = new Set<Prefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/** Splits on an unescaped separator and unescapes each part. */
export function splitEscaped(value: string, separator: ',' | '$' | '|'): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && i + 1 < value.length) {
      const next = value[i + 1];
      if (next === separator) {
        current += next;
        i++;
        continue;
      }
      current += ch + next;
      i++;
      continue;
    }
    if (ch === separator) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** Removes the remaining escapes of a value part. */
export function unescapeValue(value: string): string {
  return value.replace(/\\([\\,$|])/g, '$1');
}

/** Splits a leading comparison prefix off a value (`ge2024` → `['ge', '2024']`). */
export function splitPrefix(value: string): [Prefix, string] {
  const head = value.slice(0, 2) as Prefix;
  if (PREFIXES.has(head) && value.length > 2 && /[0-9-]/.test(value[2])) return [head, value.slice(2)];
  return ['eq', value];
}

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** A search date's range, as epoch milliseconds [low, high] inclusive; undefined if malformed. */
export function dateRange(value: string): [number, number] | undefined {
  const m = DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const offsetMs = tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000 : 0;
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  if (month > 11 || day < 1 || day > 31) return undefined;
  const utc = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0, ms = 0) => Date.UTC(yy, mm, dd, hh, mn, ss, ms) - offsetMs;
  if (!mo) return [utc(year, 0, 1), utc(year + 1, 0, 1) - 1];
  if (!d) return [utc(year, month, 1), utc(year, month + 1, 1) - 1];
  if (h === undefined) return [utc(year, month, day), utc(year, month, day + 1) - 1];
  const hour = Number(h);
  const minute = Number(mi);
  if (hour > 23 || minute > 59) return undefined;
  if (s === undefined) return [utc(year, month, day, hour, minute), utc(year, month, day, hour, minute + 1) - 1];
  const second = Number(s);
  if (second > 59) return undefined;
  if (frac === undefined) return [utc(year, month, day, hour, minute, second), utc(year, month, day, hour, minute, second + 1) - 1];
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const low = utc(year, month, day, hour, minute, second, ms);
  return [low, frac.length >= 3 ? low : low + 10 ** (3 - frac.length) - 1];
}

const NUMBER = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * A search number and half a unit of its last significant digit, as exact decimal strings: the
 * implicit range is [value − half, value + half] (`100` ± 0.5, `1.50` ± 0.005).
 */
export function numberPrecision(value: string): { value: string; half: string } | undefined {
  const m = NUMBER.exec(value);
  if (!m || Math.abs(m[3] ? Number(m[3]) : 0) > 300) return undefined;
  const exponent = m[3] ? Number(m[3]) : 0;
  const decimals = (m[2]?.length ?? 0) - exponent;
  const half = decimals >= 0 ? `0.${'0'.repeat(decimals)}5` : `5${'0'.repeat(-decimals - 1)}`;
  return { value, half };
}

/** True when a string is a plain decimal or integer literal (safe to cast to numeric). */
export function isNumber(value: string): boolean {
  return NUMBER.test(value);
}

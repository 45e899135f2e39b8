/**
 * The instant range a FHIR date, dateTime or instant covers given its precision: `2024` is the
 * whole year, `2024-03-05T10:00:00Z` the whole second. Values without a time zone (dates, and
 * dateTimes written without one) are taken as UTC, so a stored value does not move with the
 * server's zone. https://hl7.org/fhir/R4/search.html#date  https://hl7.org/fhir/R4/datatypes.html#dateTime
 */

/** An inclusive range of ISO 8601 UTC instants with milliseconds; null ends are open. */
export interface InstantRange {
  low: string | null;
  high: string | null;
}

const DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

function utcMillis(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

function offsetMinutes(zone: string | undefined): number {
  if (!zone || zone === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
}

/** Milliseconds a fraction of a second covers: `.5` → [500, 599], `.123456` → [123, 123]. */
function fractionRange(fraction: string | undefined): [number, number] {
  if (fraction === undefined) return [0, 999];
  const digits = fraction.slice(0, 3);
  const low = Number(digits.padEnd(3, '0'));
  return [low, low + 10 ** (3 - digits.length) - 1];
}

/** Parses a date/dateTime/instant into the range it covers; null when the text is not one. */
export function dateRange(text: string): InstantRange | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = m[2] ? Number(m[2]) - 1 : 0;
  const d = m[3] ? Number(m[3]) : 1;
  if (mo > 11 || d < 1 || d > 31) return null;
  let low: number;
  let high: number;
  if (m[4] === undefined) {
    low = utcMillis(y, mo, d, 0, 0, 0, 0);
    const next = m[3] ? utcMillis(y, mo, d + 1, 0, 0, 0, 0) : m[2] ? utcMillis(y, mo + 1, 1, 0, 0, 0, 0) : utcMillis(y + 1, 0, 1, 0, 0, 0, 0);
    high = next - 1;
  } else {
    const [msLow, msHigh] = m[6] === undefined ? [0, 59_999] : fractionRange(m[7]);
    const s = m[6] === undefined ? 0 : Number(m[6]);
    const shift = offsetMinutes(m[8]) * 60_000;
    low = utcMillis(y, mo, d, Number(m[4]), Number(m[5]), s, 0) - shift + msLow;
    high = low - msLow + msHigh;
  }
  if (Number.isNaN(low) || Number.isNaN(high)) return null;
  return { low: new Date(low).toISOString(), high: new Date(high).toISOString() };
}

/**
 * Exact decimal text and the range its precision implies, in string arithmetic (BigInt), never
 * through a binary float: `100` is [99.5, 100.5], `1.50` is [1.495, 1.505].
 * https://hl7.org/fhir/R4/search.html#number  https://hl7.org/fhir/R4/datatypes.html#decimal
 */
import { isLosslessNumber } from 'lossless-json';

/** A decimal's exact text and its implicit range. */
export interface DecimalRange {
  value: string;
  low: string;
  high: string;
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** The exact text of a JSON number (a `LosslessNumber` keeps it; a JS number is printed). */
export function decimalText(value: unknown): string | null {
  if (isLosslessNumber(value)) return value.value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && DECIMAL.test(value)) return value;
  return null;
}

/** `units × 10^-scale` as plain decimal text (scale may be negative). */
function formatScaled(units: bigint, scale: number): string {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString();
  if (scale <= 0) {
    digits = units === 0n ? '0' : digits + '0'.repeat(-scale);
  } else {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

/**
 * Parses decimal text (plain or with an exponent) into its value and implicit range: half a unit
 * of the last significant digit either side. Returns null for text that is not a decimal.
 */
export function decimalRange(text: string): DecimalRange | null {
  const m = DECIMAL.exec(text.trim());
  if (!m) return null;
  const fraction = m[3] ?? '';
  const scale = fraction.length - Number(m[4] ?? 0);
  let units = BigInt(m[2] + fraction);
  if (m[1] === '-') units = -units;
  // Without an exponent the text is kept as written (`1.50` stays `1.50`); with one it is expanded.
  const value = m[4] === undefined ? text.trim().replace(/^\+/, '') : formatScaled(units, scale);
  return {
    value,
    low: formatScaled(units * 10n - 5n, scale + 1),
    high: formatScaled(units * 10n + 5n, scale + 1),
  };
}

/** {@link decimalRange} of a JSON number value, or null when it is not one. */
export function decimalRangeOf(value: unknown): DecimalRange | null {
  const text = decimalText(value);
  return text === null ? null : decimalRange(text);
}

/**
 * Exact decimal comparison and the little arithmetic a number or quantity search needs
 * (`v ± half`, `v × 0.9`, `v × 1.1`), in BigInt, never through a binary float, so an in-memory
 * match agrees with PostgreSQL's `numeric` to the last digit.
 * https://hl7.org/fhir/R4/search.html#number
 */

/** `units × 10^-scale`. */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

/** A decimal or one of the open ends of a range. */
export type Bound = Decimal | typeof Infinity;

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Parses decimal text (`-1.50`, `1e3`); `undefined` for anything else (a null column included). */
export function parseDecimal(text: unknown): Decimal | undefined {
  if (typeof text !== 'string') return undefined;
  const m = DECIMAL.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const fraction = m[3] ?? '';
  const units = BigInt(`${m[2]}${fraction}` || '0');
  return { units: m[1] === '-' ? -units : units, scale: fraction.length - Number(m[4] ?? 0) };
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
}

/** Negative, zero or positive as `a` is below, equal to or above `b` (infinities included). */
export function compareBounds(a: Bound, b: Bound): number {
  if (typeof a === 'number' || typeof b === 'number') {
    // Only the infinities are numbers: against one of them a decimal counts as 0.
    const x = typeof a === 'number' ? a : 0;
    const y = typeof b === 'number' ? b : 0;
    return x === y ? 0 : x < y ? -1 : 1;
  }
  const [x, y] = align(a, b);
  return x === y ? 0 : x < y ? -1 : 1;
}

/** `a + b`. */
export function addDecimals(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b);
  return { units: x + y, scale };
}

/** `a - b`. */
export function subtractDecimals(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b);
  return { units: x - y, scale };
}

/** `a × tenths / 10` (`0.9` is 9 tenths, `1.1` is 11). */
export function scaleByTenths(a: Decimal, tenths: number): Decimal {
  return { units: a.units * BigInt(tenths), scale: a.scale + 1 };
}

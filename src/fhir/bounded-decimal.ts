/**
 * How large a decimal the server takes, written or searched: FHIR decimals are JSON numbers of any
 * size (https://hl7.org/fhir/R4/datatypes.html#decimal), but the search index stores them as
 * PostgreSQL `numeric` (at most 131,072 digits before the point and 16,383 after) and computes
 * their implicit ranges digit by digit, so `1e131072` or 200,001 digits would overflow the column
 * or take the event loop for seconds. Far beyond any measured quantity, and documented.
 */

/** Digits of the mantissa (before and after the point). */
export const MAX_DECIMAL_DIGITS = 100;
/** Absolute value of the exponent (`1.5e300`). */
export const MAX_DECIMAL_EXPONENT = 300;

const DECIMAL_PARTS = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** True when decimal text is within {@link MAX_DECIMAL_DIGITS} and {@link MAX_DECIMAL_EXPONENT}. */
export function isBoundedDecimal(text: string): boolean {
  if (text.length > MAX_DECIMAL_DIGITS + 16) return false;
  const m = DECIMAL_PARTS.exec(text);
  if (!m) return true; // not a decimal at all: the validator or the search parser says so
  const digits = m[1].length + (m[2]?.length ?? 0);
  return digits <= MAX_DECIMAL_DIGITS && Math.abs(Number(m[3] ?? 0)) <= MAX_DECIMAL_EXPONENT;
}

/** The bounds in words, for OperationOutcomes. */
export const DECIMAL_BOUNDS = `at most ${MAX_DECIMAL_DIGITS} digits and an exponent between -${MAX_DECIMAL_EXPONENT} and ${MAX_DECIMAL_EXPONENT}`;

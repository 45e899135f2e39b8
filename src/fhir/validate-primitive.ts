/**
 * Checks one FHIR primitive value in JSON form against its R4 type: the JSON type (string, number,
 * boolean), the published regex, the 32-bit integer ranges, real calendar dates and the 1 MB
 * string limit. Numbers may be JS numbers or `LosslessNumber`s (exact decimal text kept).
 * https://hl7.org/fhir/R4/datatypes.html#primitive  https://hl7.org/fhir/R4/json.html#primitive
 */
import { isLosslessNumber } from 'lossless-json';

/** A primitive problem: the R4 issue-type code and a human message. */
export interface PrimitiveProblem {
  code: 'structure' | 'value' | 'too-long';
  message: string;
}

const MAX_STRING = 1024 * 1024;
const INT_TEXT = /^-?(0|[1-9][0-9]*)$/;
const DECIMAL_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
// FHIR regexes use XML Schema `\s` (space, tab, CR, LF), not JavaScript's Unicode whitespace.
const CODE = /^[^ \t\r\n]+([ \t\r\n][^ \t\r\n]+)*$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const URI = /^[^ \t\r\n]*$/;
const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NON_WHITESPACE = /[^ \t\r\n]/;
const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';
const ZONE = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';
const DATE = new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$`);
const DATE_TIME = new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T${TIME}${ZONE})?)?)?$`);
const INSTANT = new RegExp(`^${YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T${TIME}${ZONE}$`);
const TIME_ONLY = new RegExp(`^${TIME}$`);

const NUMERIC = new Set(['integer', 'unsignedInt', 'positiveInt', 'decimal']);

/** True for the JSON forms FHIR allows for a number: a JS number or a `LosslessNumber`. */
export function isJsonNumber(value: unknown): boolean {
  return (typeof value === 'number' && Number.isFinite(value)) || isLosslessNumber(value);
}

function numberText(value: unknown): string {
  return isLosslessNumber(value) ? (value as { value: string }).value : String(value);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** True when the `YYYY-MM-DD` prefix (if it has a day) names a real calendar day. */
function isRealDay(text: string): boolean {
  if (text.length < 10 || text[7] !== '-') return true;
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  return Number(text.slice(8, 10)) <= daysInMonth(year, month);
}

function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/** A linear base64 check (the R4 regex backtracks badly on megabyte payloads). */
function isBase64(text: string): boolean {
  let n = 0;
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) continue;
    if (c === 61) padding++;
    else if (padding > 0 || !isBase64Char(c)) return false;
    n++;
  }
  return n % 4 === 0 && padding <= 2;
}

function checkInteger(type: string, value: unknown): PrimitiveProblem | undefined {
  const text = numberText(value);
  if (!INT_TEXT.test(text)) return { code: 'value', message: `${text} is not a valid ${type}` };
  const n = Number(text);
  const min = type === 'integer' ? -2147483648 : type === 'positiveInt' ? 1 : 0;
  if (n < min || n > 2147483647) return { code: 'value', message: `${text} is out of range for ${type}` };
  return undefined;
}

function checkNumber(type: string, value: unknown): PrimitiveProblem | undefined {
  if (!isJsonNumber(value)) return { code: 'structure', message: `a ${type} must be a JSON number` };
  if (type !== 'decimal') return checkInteger(type, value);
  if (isLosslessNumber(value) && !DECIMAL_TEXT.test(numberText(value))) {
    return { code: 'value', message: `${numberText(value)} is not a valid decimal` };
  }
  return undefined;
}

const STRING_CHECKS: Record<string, (s: string) => boolean> = {
  string: (s) => NON_WHITESPACE.test(s),
  markdown: (s) => NON_WHITESPACE.test(s),
  xhtml: (s) => NON_WHITESPACE.test(s),
  code: (s) => CODE.test(s),
  id: (s) => ID.test(s),
  uri: (s) => URI.test(s),
  url: (s) => URI.test(s),
  canonical: (s) => URI.test(s),
  oid: (s) => OID.test(s),
  uuid: (s) => UUID.test(s),
  base64Binary: isBase64,
  date: (s) => DATE.test(s) && isRealDay(s),
  dateTime: (s) => DATE_TIME.test(s) && isRealDay(s),
  instant: (s) => INSTANT.test(s) && isRealDay(s),
  time: (s) => TIME_ONLY.test(s),
};

/** True when `type` is a primitive this module knows. */
export function isKnownPrimitive(type: string): boolean {
  return type === 'boolean' || NUMERIC.has(type) || Object.hasOwn(STRING_CHECKS, type);
}

/**
 * Checks a primitive JSON value against its R4 type; `undefined` when valid. Strings are limited
 * to 1 MB unless `maxLength` says otherwise (`Binary.data`, whose bytes are stored apart and
 * bounded by the body limits and `MAX_BINARY`).
 */
export function checkPrimitive(type: string, value: unknown, maxLength = MAX_STRING): PrimitiveProblem | undefined {
  if (type === 'boolean') {
    return typeof value === 'boolean' ? undefined : { code: 'structure', message: 'a boolean must be JSON true or false' };
  }
  if (NUMERIC.has(type)) return checkNumber(type, value);
  if (typeof value !== 'string') return { code: 'structure', message: `a ${type} must be a JSON string` };
  if (value.length === 0) return { code: 'value', message: `a ${type} must not be empty` };
  if (value.length > maxLength) return { code: 'too-long', message: `a ${type} must not exceed 1 MB` };
  const check = STRING_CHECKS[type];
  if (check && !check(value)) {
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    return { code: 'value', message: `${JSON.stringify(shown)} is not a valid ${type}` };
  }
  return undefined;
}

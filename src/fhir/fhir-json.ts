/**
 * FHIR JSON that keeps decimals exact (DECISIONS.md §3: `1.50` written is `1.50` read;
 * https://hl7.org/fhir/R4/json.html#primitive: "decimal ... the precision of the decimal value
 * has significance").
 *
 * Parsing: bodies whose numbers all survive a round trip through a JS `number` take the native
 * `JSON.parse` fast path. Only when the text holds a number that would change (trailing zeros,
 * exponents, 16+ digits) is it parsed with `lossless-json`, and those numbers become
 * {@link ExactNumber}s (a `LosslessNumber`, so `isLosslessNumber()` recognises them).
 * Stringifying emits an `ExactNumber` as its exact source text.
 */
import { LosslessNumber, parse as parseLossless } from 'lossless-json';

/** Marks an exact number inside `JSON.stringify` output; NUL never occurs in valid FHIR strings. */
const MARK = '\u0000';
const MARKED_NUMBER = /"\\u0000(-?[0-9][0-9.eE+-]*)\\u0000"/g;
/** A number literal that a JS double would not reproduce to the letter. */
const INEXACT_NUMBER = /[0-9]\.[0-9]*0(?![0-9])|[0-9][eE][+-]?[0-9]|[0-9][0-9.]{15,}|-0(?![.0-9])/;

/** A JSON number kept as its exact source text. */
export class ExactNumber extends LosslessNumber {
  toJSON(): string {
    return MARK + this.value + MARK;
  }
}

function parseNumber(text: string): number | ExactNumber {
  const value = Number(text);
  return String(value) === text ? value : new ExactNumber(text);
}

/**
 * Parses FHIR JSON text. Throws a `SyntaxError` on malformed JSON (and, on the exact path, on
 * duplicate keys).
 */
export function parseFhirJson(text: string): unknown {
  if (!INEXACT_NUMBER.test(text)) return JSON.parse(text);
  return parseLossless(text, null, parseNumber);
}

/** Serialises a FHIR value, writing exact numbers as their original text. */
export function stringifyFhirJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  return text.includes('\\u0000') ? text.replace(MARKED_NUMBER, '$1') : text;
}

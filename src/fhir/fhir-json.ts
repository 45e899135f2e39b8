/**
 * FHIR JSON that keeps decimals exact (DECISIONS.md §3: `1.50` written is `1.50` read;
 * https://hl7.org/fhir/R4/json.html#primitive: "decimal ... the precision of the decimal value
 * has significance").
 *
 * Parsing is native `JSON.parse` throughout. When a number outside the strings would change in a
 * JS `number` (trailing zeros, exponents, 16+ digits, `-0`), a tokenising pass first turns each
 * such number into a marked string, and a walk after the parse makes those
 * {@link ExactNumber}s (a `LosslessNumber`, so `isLosslessNumber()` recognises them). A cheap
 * pre-check skips that pass for texts with no candidate number at all, which is most of them.
 * Stringifying emits an `ExactNumber` as its exact source text.
 */
import { LosslessNumber } from 'lossless-json';
import type { TimeSlice } from './time-slice.ts';

/** Marks an exact number inside `JSON.stringify` output; NUL never occurs in valid FHIR strings. */
const MARK = '\u0000';
const MARKED_NUMBER = /"\\u0000(-?[0-9][0-9.eE+-]*)\\u0000"/g;
/**
 * Could the text hold a number that a JS double would not reproduce to the letter? A number
 * token follows `:`, `[` or `,` and ends before `,`, `}`, `]` or whitespace, which timestamps in
 * strings (`10:30:00.000Z`) do not; a false alarm only costs the exact path.
 */
const MAYBE_INEXACT = /[:[,]\s*(?:-?[0-9]+\.[0-9]*0|-?0\.0{6}[0-9]*|-?[0-9.]*[eE][+-]?[0-9]+|-?[0-9.]{16,}|-0(?:\.0*)?)\s*[,}\]\s]/;
/**
 * String literals (kept as they are) or number tokens. The closing quote is optional so that a
 * string never fails to match: on malformed text with an unterminated string a failed match at
 * every later quote made the pass quadratic (issue 14); `JSON.parse` refuses such text anyway.
 */
const TOKENS = /"(?:[^"\\]|\\.)*"?|-?[0-9][0-9.eE+-]*/g;
/** A whole JSON number (RFC 8259 §6); anything else is left for `JSON.parse` to refuse. */
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** A JSON number kept as its exact source text. */
export class ExactNumber extends LosslessNumber {
  toJSON(): string {
    return MARK + this.value + MARK;
  }
}

/** Replaces the marked strings left by the tokenising pass with exact numbers, in place. */
function reviveExact(value: unknown): unknown {
  if (typeof value === 'string') return value.charCodeAt(0) === 0 ? new ExactNumber(value.slice(1)) : value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveExact(value[i]);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = reviveExact(record[key]);
  }
  return value;
}

/**
 * Parses FHIR JSON text. Throws a `SyntaxError` on malformed JSON.
 */
export function parseFhirJson(text: string): unknown {
  if (!MAYBE_INEXACT.test(text)) return JSON.parse(text);
  let inexact = false;
  const marked = text.replace(TOKENS, (token) => {
    if (token.charCodeAt(0) === 34 || String(Number(token)) === token || !JSON_NUMBER.test(token)) return token;
    inexact = true;
    // The escape \u0000 inside a JSON string parses to NUL, which no FHIR string holds.
    return `"\\u0000${token}"`;
  });
  const value: unknown = JSON.parse(marked);
  return inexact ? reviveExact(value) : value;
}

/** Serialises a FHIR value, writing exact numbers as their original text. */
export function stringifyFhirJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  return text.includes('\\u0000') ? text.replace(MARKED_NUMBER, '$1') : text;
}

/** Stands for a Bundle's entries in its serialised shell; NUL never occurs in valid FHIR strings. */
const ENTRIES_MARK = '\u0000entries\u0000';

/**
 * {@link stringifyFhirJson} in time slices for a Bundle (a resource of up to `MAX_BODY`): each
 * entry serialised on its own, pausing for other clients when `slice` is used up, then spliced
 * into the serialised shell in place, so the text is the same as in one go. Anything else at once.
 */
export async function stringifyFhirJsonInSlices(value: unknown, slice: TimeSlice): Promise<string> {
  const entries = value !== null && typeof value === 'object' ? (value as { entry?: unknown }).entry : undefined;
  if (!Array.isArray(entries) || entries.length < 2) return stringifyFhirJson(value);
  const parts: string[] = [];
  for (const entry of entries) {
    parts.push(stringifyFhirJson(entry ?? null));
    if (slice.due()) await slice.pause();
  }
  const shell = stringifyFhirJson({ ...(value as Record<string, unknown>), entry: ENTRIES_MARK });
  return shell.replace(JSON.stringify(ENTRIES_MARK), () => `[${parts.join(',')}]`);
}

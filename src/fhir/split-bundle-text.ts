/**
 * Splits the JSON text of a Bundle into its `entry` items and the rest (the "shell"), without
 * parsing it, in time slices: a 32 MiB transaction parsed with one `JSON.parse` (and checked with
 * one scan) held the event loop for 100–300 ms (review 2, #3). Each entry can then be checked and
 * parsed on its own, between turns of the loop. One pass over the characters, strings skipped
 * with `indexOf` (json-string-end.ts), as in {@link findLongArray}. Text it cannot split with certainty (not an object,
 * two `entry` members, unbalanced brackets, an empty item) is left to be parsed whole, which
 * refuses malformed JSON as before. https://hl7.org/fhir/R4/bundle.html
 */
import { jsonStringEnd } from './json-string-end.ts';
import type { TimeSlice } from './time-slice.ts';

/** The pieces of a Bundle's text. */
export interface BundleText {
  /** The text with the `entry` array emptied (`[]`), everything else as it was. */
  shell: string;
  /** Each entry's text, in order. */
  entries: string[];
}

/** Characters scanned between two looks at the clock. */
const CHECK_EVERY = 1 << 18;

function isWhitespace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isWhitespace(text.charCodeAt(i))) return false;
  return true;
}

/**
 * The entries and shell of `text`, `'too-many'` as soon as the `entry` array holds more than
 * `maxEntries` items, or `undefined` when the text should be parsed whole.
 */
export async function splitBundleText(text: string, maxEntries: number, slice: TimeSlice): Promise<BundleText | 'too-many' | undefined> {
  let first = 0;
  while (first < text.length && isWhitespace(text.charCodeAt(first))) first++;
  if (text.charCodeAt(first) !== 123 /* { */) return undefined;
  let depth = 0;
  let expectKey = false;
  let key = '';
  let inEntry = false;
  /** Positions of `[`, each `,` between items, and `]` of the entry array. */
  let bounds: number[] | undefined;
  let checkAt = CHECK_EVERY;
  for (let i = first; i < text.length; i++) {
    if (i >= checkAt) {
      checkAt = i + CHECK_EVERY;
      await slice.yieldIfDue();
    }
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const end = jsonStringEnd(text, i);
      if (end < 0) return undefined;
      if (depth === 1 && expectKey) {
        key = text.slice(i + 1, end);
        expectKey = false;
      }
      i = end;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (c === 91 && depth === 1 && key === 'entry') {
        if (bounds) return undefined; // a second entry member: JSON.parse would keep the last
        bounds = [i];
        inEntry = true;
      }
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (inEntry && depth === 2) {
        if (c !== 93) return undefined;
        bounds!.push(i);
        inEntry = false;
      }
      depth--;
      if (depth < 0) return undefined;
    } else if (c === 44 /* , */) {
      if (depth === 1) expectKey = true;
      else if (inEntry && depth === 2) {
        bounds!.push(i);
        if (bounds!.length - 1 > maxEntries) return 'too-many';
      }
    }
  }
  if (depth !== 0 || !bounds || inEntry) return undefined;
  const open = bounds[0];
  const close = bounds[bounds.length - 1];
  const entries: string[] = [];
  const items = bounds.length - 1;
  for (let k = 0; k < items; k++) {
    if (isBlank(text, bounds[k] + 1, bounds[k + 1])) {
      if (items === 1) break; // `[]`
      return undefined; // `[a,,b]`: let JSON.parse refuse it
    }
    entries.push(text.slice(bounds[k] + 1, bounds[k + 1]));
  }
  if (entries.length > maxEntries) return 'too-many';
  return { shell: `${text.slice(0, open)}[]${text.slice(close + 1)}`, entries };
}

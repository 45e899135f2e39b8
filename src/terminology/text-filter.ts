/**
 * `$expand`'s `filter` parameter: which codes a user's typed text selects. Case-insensitive; every
 * whitespace-separated term must begin a word of the display or begin the code ("car ven" finds
 * "Cardiac Ventilation"; "vent" does not find "prevent"). The spec leaves the matching to the
 * server. https://hl7.org/fhir/R4/valueset-operation-expand.html
 */
import type { ExpansionEntry } from './terminology-types.ts';

/** Longest filter text taken (longer text is refused by the operation before it gets here). */
export const MAX_FILTER_LENGTH = 200;

/** Words of a text: runs of letters and digits. */
function wordsOf(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** A predicate selecting the entries `filter` matches (all of them for blank text). */
export function textMatcher(filter: string): (entry: ExpansionEntry) => boolean {
  const terms = wordsOf(filter);
  if (terms.length === 0) return () => true;
  return (entry) => {
    const words = wordsOf(entry.display ?? '');
    const code = entry.code.toLowerCase();
    return terms.every((term) => code.startsWith(term) || words.some((w) => w.startsWith(term)));
  };
}

/**
 * The normal form string search compares: lower case, accents removed (NFD, combining marks
 * dropped), so `Müller` matches `muller`. The query side must normalise search values with the
 * same function. https://hl7.org/fhir/R4/search.html#string
 */

const ASCII = /^[\x00-\x7f]*$/;
const MARKS = /\p{M}/gu;

/** Lower-cases `text` and strips its accents. */
export function normalizeString(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  return text.normalize('NFD').replace(MARKS, '').toLowerCase();
}

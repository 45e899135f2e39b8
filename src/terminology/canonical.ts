/**
 * Canonical references: `url` or `url|version`, as ValueSet `include.valueSet`, `$expand?url=` and
 * the `system` of a lookup write them. https://hl7.org/fhir/R4/references.html#canonical
 */

/** A canonical URL and the version it pins (if any). */
export interface Canonical {
  url: string;
  version?: string;
}

/** Splits `url|version`; a `version` given apart wins over none in the text. */
export function parseCanonical(text: string, version?: string): Canonical {
  const bar = text.indexOf('|');
  if (bar < 0) return version === undefined ? { url: text } : { url: text, version };
  const pinned = text.slice(bar + 1);
  return { url: text.slice(0, bar), version: version ?? (pinned === '' ? undefined : pinned) };
}

/** `url` or `url|version`. */
export function formatCanonical({ url, version }: Canonical): string {
  return version === undefined ? url : `${url}|${version}`;
}

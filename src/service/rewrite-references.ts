/**
 * Rewriting `urn:uuid:` placeholders in resource content to the ids a transaction assigned, and
 * finding the placeholders no entry defines (https://hl7.org/fhir/R4/http.html#trules).
 */

/**
 * Replaces, in place, every `Reference.reference` value found in `mapping` (a fullUrl such as
 * `urn:uuid:…`) with its target `Type/id`.
 */
export function rewriteReferences(resource: unknown, mapping: ReadonlyMap<string, string>): void {
  if (mapping.size === 0) return;
  const walk = (node: unknown, depth: number): void => {
    if (depth > 64 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
      return;
    }
    const record = node as Record<string, unknown>;
    if (typeof record.reference === 'string') {
      const target = mapping.get(record.reference);
      if (target) record.reference = target;
    }
    for (const key in record) {
      const value = record[key];
      if (value !== null && typeof value === 'object') walk(value, depth + 1);
    }
  };
  walk(resource, 0);
}

/** A `Reference.reference` holding a Bundle-local placeholder, and where it sits. */
export interface PlaceholderReference {
  /** FHIRPath-like path below the resource: `subject.reference`, `performer[1].reference`. */
  path: string;
  reference: string;
}

const PLACEHOLDER = /^urn:(?:uuid|oid):/;

/**
 * Every `reference` of `resource` that is a `urn:uuid:` or `urn:oid:` placeholder: inside a
 * transaction each must be the fullUrl of an entry, or it would be stored pointing nowhere.
 */
export function findPlaceholderReferences(resource: unknown): PlaceholderReference[] {
  const found: PlaceholderReference[] = [];
  const walk = (node: unknown, path: string, depth: number): void => {
    if (depth > 64 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
      return;
    }
    const record = node as Record<string, unknown>;
    if (typeof record.reference === 'string' && PLACEHOLDER.test(record.reference)) {
      found.push({ path: path ? `${path}.reference` : 'reference', reference: record.reference });
    }
    for (const key in record) {
      const value = record[key];
      if (value !== null && typeof value === 'object') walk(value, path ? `${path}.${key}` : key, depth + 1);
    }
  };
  walk(resource, '', 0);
  return found;
}

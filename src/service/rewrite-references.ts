/**
 * Rewriting `urn:uuid:` placeholders in resource content to the ids a transaction assigned
 * (https://hl7.org/fhir/R4/http.html#trules).
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

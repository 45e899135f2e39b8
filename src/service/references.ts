/**
 * Reference handling in resource content: collecting the outgoing references of a resource for
 * the reverse-lookup table, and rewriting `urn:uuid:` placeholders to the ids a transaction
 * assigned (https://hl7.org/fhir/R4/http.html#trules).
 */
import type { OutgoingReference } from '../store/resource-repository.ts';

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** Splits `Type/id` (or an absolute URL under `baseUrl`) into type and id; otherwise undefined. */
export function parseLocalReference(reference: string, baseUrl?: string): { resourceType: string; id: string } | undefined {
  let ref = reference;
  if (baseUrl && ref.startsWith(baseUrl + '/')) ref = ref.slice(baseUrl.length + 1);
  const m = RELATIVE.exec(ref);
  return m ? { resourceType: m[1], id: m[2] } : undefined;
}

/**
 * Walks a resource and returns every `Reference.reference` that points at a resource on this
 * server, with the dotted element path it sits at (`subject`, `performer`,
 * `participant.individual`). Duplicates are dropped.
 */
export function collectReferences(resource: unknown, baseUrl?: string): OutgoingReference[] {
  const found = new Map<string, OutgoingReference>();
  const walk = (node: unknown, path: string, depth: number): void => {
    if (depth > 64 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, path, depth + 1);
      return;
    }
    const record = node as Record<string, unknown>;
    const reference = record.reference;
    if (typeof reference === 'string' && path) {
      const target = parseLocalReference(reference, baseUrl);
      if (target) found.set(`${path}|${target.resourceType}/${target.id}`, { path, targetType: target.resourceType, targetId: target.id });
    }
    for (const key in record) {
      const value = record[key];
      if (value !== null && typeof value === 'object') walk(value, path ? `${path}.${key}` : key, depth + 1);
    }
  };
  walk(resource, '', 0);
  return [...found.values()];
}

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

/**
 * `Composition/{id}/$document`: the document a Composition heads, as a `document` Bundle — the
 * Composition first, then every resource it refers to, recursively (subject, author, custodian,
 * attester, encounter, section entries, and what those refer to), breadth first in the order the
 * references appear, each once. References are found by walking the stored JSON (`reference`
 * values anywhere, relative `Type/id` or absolute under this server's base); contained (`#id`)
 * references resolve inside their resource, references to other servers are left as they are.
 *
 * A document that misses parts is misleading, so the assembly refuses rather than leaves out:
 * a referenced type the caller may not read answers 403 naming it, a reference to a resource
 * that does not exist (or was deleted) 422 naming it, and more than `DOCUMENT_MAX_RESOURCES`
 * resources 422. Each level of the walk is one statement (readCurrentMany).
 * https://hl7.org/fhir/R4/composition-operation-document.html  https://hl7.org/fhir/R4/documents.html
 */
import { randomUUID } from 'node:crypto';
import { forbidden, gone, notFound, resourceTooCostly, unprocessable } from '../fhir/outcomes.ts';
import { parseReference } from '../search/extract/parse-reference.ts';
import { readCurrent, readCurrentMany, type StoredVersion } from '../store/resource-repository.ts';
import { isAllowed } from './authorize.ts';
import type { FhirService } from './fhir-service.ts';
import type { RequestContext } from './request-context.ts';

/** The bound on a document. */
export interface DocumentLimits {
  /** `DOCUMENT_MAX_RESOURCES`: resources one document may hold, the Composition included. */
  maxResources: number;
}

interface Key { resourceType: string; id: string }

/** How many missing references a refusal names. */
const NAMED_MISSING = 5;

/** Every `reference` string in a resource's JSON (depth-first, in document order). */
export function referencesIn(json: string): string[] {
  const found: string[] = [];
  const stack: unknown[] = [JSON.parse(json)];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        if (key === 'reference' && typeof child === 'string') found.push(child);
        else stack.push(child);
      }
    }
  }
  return found;
}

/** The local resources `versions` refer to that are not in `seen` yet (and adds them to it), in order. */
function newTargets(versions: StoredVersion[], seen: Set<string>, fhirBaseUrl: string): Key[] {
  const keys: Key[] = [];
  for (const version of versions) {
    for (const reference of referencesIn(version.content!)) {
      const parsed = parseReference(reference, undefined, fhirBaseUrl);
      if (parsed.contained || parsed.targetType === null || parsed.targetId === null) continue;
      const key = `${parsed.targetType}/${parsed.targetId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      keys.push({ resourceType: parsed.targetType, id: parsed.targetId });
    }
  }
  return keys;
}

/** 403 unless the caller may read every type among `keys`. */
function authorizeTargets(ctx: RequestContext, keys: Key[]): void {
  for (const type of new Set(keys.map((k) => k.resourceType))) {
    if (!isAllowed(ctx, type, 'r')) {
      throw forbidden(`The document refers to ${type} resources, which the access token's scope does not allow reading; a document without them would be incomplete`);
    }
  }
}

/**
 * The Composition `compositionId` and every resource it refers to, recursively, in document
 * order (the Composition first). The caller has opened the interaction (read permission on Composition).
 */
export async function collectDocumentResources(
  service: FhirService, ctx: RequestContext, compositionId: string, limits: DocumentLimits,
): Promise<StoredVersion[]> {
  const composition = await readCurrent(service.db, 'Composition', compositionId);
  if (!composition) throw notFound(`Composition/${compositionId} is not known`);
  if (composition.deleted) throw gone(`Composition/${compositionId} has been deleted`);
  const resources = [composition];
  const seen = new Set([`Composition/${compositionId}`]);
  let frontier = [composition];
  while (frontier.length > 0) {
    const keys = newTargets(frontier, seen, ctx.fhirBaseUrl);
    if (keys.length === 0) break;
    if (seen.size > limits.maxResources) {
      throw resourceTooCostly(`The document would hold more than ${limits.maxResources} resources (DOCUMENT_MAX_RESOURCES)`);
    }
    authorizeTargets(ctx, keys);
    const found = await readCurrentMany(service.db, keys);
    const missing = keys.filter((k) => !found.get(`${k.resourceType}/${k.id}`) || found.get(`${k.resourceType}/${k.id}`)!.deleted);
    if (missing.length > 0) {
      const named = missing.slice(0, NAMED_MISSING).map((k) => `${k.resourceType}/${k.id}`).join(', ');
      const more = missing.length > NAMED_MISSING ? ` and ${missing.length - NAMED_MISSING} more` : '';
      throw unprocessable(`The document refers to resources that do not exist on this server: ${named}${more}`);
    }
    frontier = keys.map((k) => found.get(`${k.resourceType}/${k.id}`)!);
    resources.push(...frontier);
  }
  for (const version of resources) ctx.audit.touch(`${version.resourceType}/${version.id}`);
  return resources;
}

/**
 * The `document` Bundle of `resources` (the Composition first) as JSON text: a new `urn:uuid`
 * identifier, the assembly time as `timestamp`, each entry with its absolute `fullUrl`; the stored
 * resources are spliced in as they are.
 */
export function renderDocumentBundle(ctx: RequestContext, resources: StoredVersion[]): string {
  const head = {
    resourceType: 'Bundle',
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` },
    type: 'document',
    timestamp: new Date().toISOString(),
  };
  const entries = resources.map((r) => `{"fullUrl":${JSON.stringify(`${ctx.fhirBaseUrl}/${r.resourceType}/${r.id}`)},"resource":${r.content}}`);
  return `${JSON.stringify(head).slice(0, -1)},"entry":[${entries.join(',')}]}`;
}

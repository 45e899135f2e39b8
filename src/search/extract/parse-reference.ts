/**
 * Splits a `Reference.reference` into what search indexes: a local `Type/id`, an absolute URL
 * (local again when it lies under the server's base URL), a contained `#id`, or a URN.
 * https://hl7.org/fhir/R4/references.html#literal  https://hl7.org/fhir/R4/search.html#reference
 */
import { loadFhirModel } from '../../fhir/fhir-model.ts';

/** A parsed literal reference. */
export interface ParsedReference {
  /** The target's resource type when the reference names one (`Patient/1`, `http://x/Patient/1`, `Reference.type`). */
  targetType: string | null;
  /** The target's id for a local reference (`_history/n` dropped). */
  targetId: string | null;
  /** The reference as written when it is not local (absolute URL, `urn:uuid:`, `urn:oid:`). */
  url: string | null;
  /** `#id`: a contained resource, which search does not index. */
  contained: boolean;
}

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const TYPE_NAME = /^[A-Z][A-Za-z]+$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The last `count` `/`-separated segments of `path` (fewer when it has fewer), without splitting all of it. */
function lastSegments(path: string, count: number): string[] {
  const segments: string[] = [];
  let end = path.length;
  while (segments.length < count) {
    const slash = path.lastIndexOf('/', end - 1);
    if (slash < 0) break;
    segments.unshift(path.slice(slash + 1, end));
    end = slash;
  }
  return segments;
}

/**
 * The `Type/id` an absolute URL's path ends in (`…/Type/id` or `…/Type/id/_history/v`). Read
 * segment by segment: an unanchored regular expression over the whole URL backtracks at every `/`.
 */
function absoluteTail(reference: string): [type: string, id: string] | null {
  const [a, b, c, d] = lastSegments(reference, 4);
  if (c === '_history' && ID.test(d ?? '') && TYPE_NAME.test(a ?? '') && ID.test(b ?? '')) return [a, b];
  const [type, id] = [c, d].every((x) => x !== undefined) ? [c, d] : [a, b];
  return type !== undefined && id !== undefined && TYPE_NAME.test(type) && ID.test(id) ? [type, id] : null;
}

function knownType(name: string | undefined): string | null {
  return name && loadFhirModel().isResourceType(name) ? name : null;
}

/**
 * Parses a literal reference. `baseUrl` (without a trailing slash needed) makes absolute
 * references to this server local. An absolute reference elsewhere keeps its type when its path
 * ends in `Type/id`, so `subject:Patient` and `resolve() is Patient` still see it.
 */
export function parseReference(reference: string, declaredType?: string, baseUrl?: string): ParsedReference {
  const typeHint = knownType(declaredType);
  if (reference.startsWith('#')) return { targetType: typeHint, targetId: null, url: null, contained: true };
  const relative = RELATIVE.exec(reference);
  if (relative && knownType(relative[1])) {
    return { targetType: relative[1], targetId: relative[2], url: null, contained: false };
  }
  if (baseUrl) {
    const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    if (reference.startsWith(base)) {
      const local = RELATIVE.exec(reference.slice(base.length));
      if (local && knownType(local[1])) return { targetType: local[1], targetId: local[2], url: null, contained: false };
    }
  }
  const tail = /^[a-z][a-z0-9+.-]*:\/\//i.test(reference) ? absoluteTail(reference) : null;
  return { targetType: knownType(tail?.[0]) ?? typeHint, targetId: null, url: reference, contained: false };
}

/**
 * The resource type a Reference points to, for `resolve() is T` (DECISIONS §5: "the reference's
 * target type"): from `reference`, else from `Reference.type`; null when neither tells.
 */
export function referenceTargetType(ref: unknown): string | null {
  if (!ref || typeof ref !== 'object') return null;
  const { reference, type } = ref as { reference?: unknown; type?: unknown };
  if (typeof reference === 'string') return parseReference(reference, typeof type === 'string' ? type : undefined).targetType;
  return knownType(typeof type === 'string' ? type : undefined);
}

/**
 * Checks `Reference.reference`: a relative `Type/id` (known type, valid id, optional
 * `/_history/vid`), a conditional `Type?query` (transactions), an absolute URL, a `#id` fragment
 * to a contained resource, or a `urn:uuid:` / `urn:oid:` (Bundle-local), and, for relative
 * references, that the type is one the element's `targetProfile` allows.
 * https://hl7.org/fhir/R4/references.html#Reference
 */

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;
const CONDITIONAL = /^([A-Z][A-Za-z]+)\?\S*$/;
const FRAGMENT = /^#([A-Za-z0-9\-.]{1,64})?$/;
const UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/;

/** A reference problem: the R4 issue-type code and a message. */
export interface ReferenceProblem {
  code: 'value' | 'invalid';
  message: string;
}

/**
 * Checks one reference string. `targets` are the allowed type names (undefined or containing
 * `Resource` = any); `isResourceType` says whether a name is a concrete resource type.
 */
export function checkReference(
  reference: string,
  targets: readonly string[] | undefined,
  isResourceType: (name: string) => boolean,
): ReferenceProblem | undefined {
  if (reference.startsWith('#')) {
    return FRAGMENT.test(reference) ? undefined : { code: 'value', message: `${reference} is not a valid contained reference` };
  }
  if (reference.startsWith('urn:')) {
    if (UUID.test(reference) || OID.test(reference)) return undefined;
    return { code: 'value', message: `${reference} is not a valid urn:uuid: or urn:oid: reference` };
  }
  if (ABSOLUTE.test(reference)) return undefined;
  const m = RELATIVE.exec(reference) ?? CONDITIONAL.exec(reference);
  if (!m) return { code: 'value', message: `${JSON.stringify(reference)} is not a valid reference (Type/id, absolute URL, #id or urn)` };
  const type = m[1];
  if (!isResourceType(type)) return { code: 'value', message: `${type} in reference ${reference} is not a resource type` };
  if (targets && !targets.includes('Resource') && !targets.includes(type)) {
    return { code: 'invalid', message: `a reference to ${type} is not allowed here (allowed: ${targets.join(', ')})` };
  }
  return undefined;
}

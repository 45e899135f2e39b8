/**
 * Resource bodies: checking what a request sends (a resource of the URL's type, read only once
 * the interaction has opened), and turning a validated resource into the JSON text the store
 * keeps: the server owns `id`, `meta.versionId` and `meta.lastUpdated`
 * (https://hl7.org/fhir/R4/resource.html#Meta), and the stored text starts with `resourceType`,
 * `id` and `meta` like the spec's examples.
 */
import { stringifyFhirJson } from '../fhir/fhir-json.ts';
import { badRequest } from '../fhir/outcomes.ts';

export type FhirResource = Record<string, unknown> & { resourceType: string; id?: string };

/** The resource as stored: the server's `id` and `meta.versionId`/`meta.lastUpdated` set, first. */
export function buildStoredResource(resource: FhirResource, id: string, versionId: number, lastUpdated: Date): FhirResource {
  const { resourceType, id: _ignored, meta, ...rest } = resource;
  const clientMeta = meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {};
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = clientMeta;
  return {
    resourceType,
    id,
    meta: { versionId: String(versionId), lastUpdated: lastUpdated.toISOString(), ...keptMeta },
    ...rest,
  };
}

/** Builds the stored JSON text of a resource version. */
export function buildContent(resource: FhirResource, id: string, versionId: number, lastUpdated: Date): string {
  return stringifyFhirJson(buildStoredResource(resource, id, versionId, lastUpdated));
}

/** True for a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A request body as the service takes it: the value, or a function that reads it (the REST
 * facade parses JSON there), called only once the interaction has opened
 * (src/service/interaction-start.ts), so a URL or scope error comes before a body error.
 */
export type BodySource = unknown;

/** The body a {@link BodySource} holds. */
export function readBody(source: BodySource): unknown {
  return typeof source === 'function' ? (source as () => unknown)() : source;
}

/** Checks that a request body is a resource of the expected type (400 otherwise). */
export function assertBodyType(body: unknown, resourceType: string): asserts body is FhirResource {
  if (!isJsonObject(body)) throw badRequest('The body must be a JSON object holding a FHIR resource');
  if (body.resourceType === undefined) throw badRequest(`The body has no resourceType: expected a ${resourceType} resource`, 'resourceType');
  if (body.resourceType !== resourceType) {
    throw badRequest(`The body's resourceType "${String(body.resourceType).slice(0, 64)}" does not match the URL's "${resourceType}"`, 'resourceType');
  }
}

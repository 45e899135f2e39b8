/**
 * Turning a validated resource into the JSON text the store keeps: the server owns `id`,
 * `meta.versionId` and `meta.lastUpdated` (https://hl7.org/fhir/R4/resource.html#Meta), and the
 * stored text starts with `resourceType`, `id` and `meta` like the spec's examples.
 */
import { stringifyFhirJson } from '../fhir/fhir-json.ts';

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

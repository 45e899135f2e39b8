/**
 * How a `Binary` whose bytes live outside its JSON (src/store/binary-store.ts) appears where it is
 * carried as JSON without them: search and history Bundles, write answers, webhook bodies. Its
 * `data` is left out and its `meta.tag` says `SUBSETTED`, as FHIR asks of a resource returned
 * incomplete (https://hl7.org/fhir/R4/search.html#summary); the bytes are one read away
 * (`GET /fhir/Binary/{id}`). Which `_summary`/`_elements` keep `data` in a read.
 */
import { parseFhirJson, stringifyFhirJson } from '../../fhir/fhir-json.ts';
import type { ResourceShape } from '../../search/shape-resource.ts';
import type { Queryable } from '../../store/database.ts';
import { findVersionsWithContent } from '../../store/binary-store.ts';
import type { StoredVersion } from '../../store/resource-repository.ts';

const SUBSETTED_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue';

/** The resource JSON text with a `SUBSETTED` tag in `meta` (unchanged when it has one). */
export function markSubsetted(json: string): string {
  const resource = parseFhirJson(json) as Record<string, unknown>;
  const meta = (resource.meta ?? {}) as Record<string, unknown>;
  const tags = Array.isArray(meta.tag) ? (meta.tag as Record<string, unknown>[]) : [];
  if (tags.some((t) => t?.system === SUBSETTED_SYSTEM && t.code === 'SUBSETTED')) return json;
  resource.meta = { ...meta, tag: [...tags, { system: SUBSETTED_SYSTEM, code: 'SUBSETTED' }] };
  return stringifyFhirJson(resource);
}

/**
 * True when a read shaped by `_summary`/`_elements` keeps `Binary.data`: no shape, `_summary=false`
 * or `data`, or `_elements` naming it (`data` is not a summary element of R4 Binary).
 */
export function shapeKeepsData(shape: ResourceShape): boolean {
  if (shape.elements?.length) return shape.elements.some((e) => e.split('.').pop() === 'data');
  return !shape.summary || shape.summary === 'false' || shape.summary === 'data';
}

/** `type/id/versionId` of a version, the key of {@link binaryVersionsWithBytes}. */
export function versionKey(version: Pick<StoredVersion, 'resourceType' | 'id' | 'versionId'>): string {
  return `${version.resourceType}/${version.id}/${version.versionId}`;
}

/** Which of `versions` are Binary versions with bytes stored apart (keys of {@link versionKey}): one statement, none without Binaries. */
export async function binaryVersionsWithBytes(q: Queryable, versions: readonly StoredVersion[]): Promise<Set<string>> {
  const binaries = versions.filter((v) => v.resourceType === 'Binary' && v.content !== null);
  if (binaries.length === 0) return new Set();
  const found = await findVersionsWithContent(q, binaries);
  return new Set([...found].map((key) => `Binary/${key}`));
}

/** `json` of `version`, marked `SUBSETTED` when it is one of `withBytes`. */
export function withoutBytesMarked(withBytes: ReadonlySet<string>, version: StoredVersion, json: string): string {
  return withBytes.has(versionKey(version)) ? markSubsetted(json) : json;
}

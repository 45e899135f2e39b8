/**
 * A resource version ready to be matched: its search index rows, extracted once in memory with
 * the same extractor (and base URL) the store used when it wrote the version, grouped by
 * parameter. Built once per change event and shared by every criteria tested against it, so a
 * thousand subscriptions cost one extraction. https://hl7.org/fhir/R4/search.html
 */
import { parseFhirJson } from '../../fhir/fhir-json.ts';
import { extractIndexRows, type IndexRow } from '../../search/extract-index-rows.ts';
import type { StoredVersion } from '../../store/resource-repository.ts';

/** A version and its index rows by parameter code. */
export interface IndexedVersion {
  readonly resourceType: string;
  readonly id: string;
  readonly versionId: number;
  readonly lastUpdated: Date;
  readonly rows: ReadonlyMap<string, readonly IndexRow[]>;
}

/**
 * Indexes a stored version (`fhirBaseUrl`: the server's `PUBLIC_URL/fhir`, under which absolute
 * references are local); `undefined` for a deletion, which has no content to match.
 */
export function indexVersion(version: StoredVersion, fhirBaseUrl: string): IndexedVersion | undefined {
  if (version.deleted || version.content === null) return undefined;
  const resource = parseFhirJson(version.content) as Record<string, unknown>;
  const rows = new Map<string, IndexRow[]>();
  for (const row of extractIndexRows(resource, { baseUrl: fhirBaseUrl })) {
    const list = rows.get(row.param);
    if (list) list.push(row);
    else rows.set(row.param, [row]);
  }
  return { resourceType: version.resourceType, id: version.id, versionId: version.versionId, lastUpdated: version.lastUpdated, rows };
}

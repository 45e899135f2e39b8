/**
 * Search indexing at write time: every row, for every search parameter of a resource's type
 * (with the `Resource`-level `_lastUpdated`, `_tag`, `_profile`, `_security` and `_source`; `_id`
 * is the id column), evaluated from each SearchParameter's FHIRPath expression over the R4 model.
 * Parameters are compiled once per resource type and cached.
 * https://hl7.org/fhir/R4/search.html  https://hl7.org/fhir/R4/searchparameter-registry.html
 */
import { loadFhirModel } from '../fhir/fhir-model.ts';
import { resourceTooCostly } from '../fhir/outcomes.ts';
import type { IndexRow } from './index-rows.ts';
import { compileSearchParam, type ParamExtractor } from './extract/compile-search-param.ts';
import type { PathNode } from './extract/path-node.ts';

export type { IndexRow } from './index-rows.ts';
export { normalizeString } from './extract/normalize-string.ts';

/** Options of {@link extractIndexRows}. */
export interface ExtractOptions {
  /** The server's public FHIR base URL: absolute references under it index as local `Type/id`. */
  baseUrl?: string;
  /**
   * Refuse (422) a resource producing more rows (`RESOURCE_MAX_INDEX_ROWS`), stopping the
   * extraction as soon as it is exceeded. Unbounded when absent (reindexing what is stored).
   */
  maxRows?: number;
}

const compiled = new Map<string, readonly ParamExtractor[]>();

/** The compiled extractors of a resource type (compiled at the first call, then cached). */
function extractorsFor(resourceType: string): readonly ParamExtractor[] {
  const cachedList = compiled.get(resourceType);
  if (cachedList) return cachedList;
  const list: ParamExtractor[] = [];
  for (const def of loadFhirModel().getSearchParams(resourceType)) {
    const extractor = compileSearchParam(def, resourceType);
    if (extractor) list.push(extractor);
  }
  compiled.set(resourceType, list);
  return list;
}

/**
 * Extracts the search index rows of a resource (parsed FHIR JSON; decimals may be numbers or
 * `LosslessNumber`s, and keep their exact digits). Returns no rows for an unknown resource type.
 */
export function extractIndexRows(resource: Record<string, unknown>, options?: ExtractOptions): IndexRow[] {
  const resourceType = resource.resourceType;
  if (typeof resourceType !== 'string' || !loadFhirModel().isResourceType(resourceType)) return [];
  const root: PathNode = { value: resource, type: resourceType };
  const env = { resource: root };
  const out: IndexRow[] = [];
  const maxRows = options?.maxRows ?? Infinity;
  for (const extract of extractorsFor(resourceType)) {
    extract(root, env, options?.baseUrl, out, maxRows);
    if (out.length > maxRows) {
      const param = out[out.length - 1].param;
      throw resourceTooCostly(`${resourceType} has too many searchable values: it would take more than ${maxRows} search index rows (RESOURCE_MAX_INDEX_ROWS), search parameter "${param}" among them`, resourceType);
    }
  }
  return out;
}

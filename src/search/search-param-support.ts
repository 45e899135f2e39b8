/**
 * Which search parameters the server answers, per resource type, for the CapabilityStatement:
 * a parameter is supported when its index extractor compiles and the query engine handles its
 * type; the others are listed with the reason (https://hl7.org/fhir/R4/capabilitystatement.html
 * `rest.resource.searchParam`).
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import type { SearchParamDef } from '../fhir/model-types.ts';
import { compileSearchParam } from './extract/compile-search-param.ts';

export interface SearchParamSupport {
  supported: SearchParamDef[];
  unsupported: { param: SearchParamDef; reason: string }[];
}

/** Columns of the resource table that answer a parameter without an index table. */
const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);

/** Sorts the parameters of `resourceType` into supported and unsupported (with reasons). */
export function searchParamSupport(model: FhirModel, resourceType: string): SearchParamSupport {
  const result: SearchParamSupport = { supported: [], unsupported: [] };
  for (const param of model.getSearchParams(resourceType)) {
    if (COLUMN_PARAMS.has(param.code)) result.supported.push(param);
    else if (param.type === 'special') result.unsupported.push({ param, reason: `special parameter "${param.code}": the query engine has no ${param.code === 'near' ? 'geographic distance' : 'special'} search` });
    else if (!param.expression) result.unsupported.push({ param, reason: 'the SearchParameter has no expression' });
    else if (!compileSearchParam(param, resourceType)) result.unsupported.push({ param, reason: 'its expression cannot be indexed' });
    else result.supported.push(param);
  }
  return result;
}

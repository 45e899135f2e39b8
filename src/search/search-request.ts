/**
 * A parsed FHIR search (https://hl7.org/fhir/R4/search.html): criteria (AND of ORs), and the
 * result parameters (`_count`, `_sort`, `_total`, `_summary`, `_elements`, `_include`,
 * `_revinclude`) plus the paging cursor.
 */
import type { SearchParamDef } from '../fhir/model-types.ts';
import type { OutcomeIssue } from '../fhir/outcomes.ts';

/** One search criterion: a parameter, its modifier, and the values any of which may match. */
export interface SearchCriterion {
  /** The resource type the criterion applies to. */
  resourceType: string;
  param: SearchParamDef;
  modifier?: string;
  /** OR-ed values, split on unescaped commas. */
  values: string[];
  /** `subject:Patient.name=x`: the criterion applied to the referenced resources. */
  chain?: { targetTypes: string[]; criterion: SearchCriterion[] };
  /** `_has:Observation:subject:code=x`: resources referenced by matching resources. */
  has?: { sourceType: string; referenceParam: SearchParamDef; criterion: SearchCriterion };
}

export interface SortKey {
  param: SearchParamDef;
  descending: boolean;
}

export interface IncludeSpec {
  sourceType: string;
  /** `undefined` for `*`: every reference parameter. */
  param?: SearchParamDef;
  targetType?: string;
  iterate: boolean;
}

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';
export type TotalMode = 'none' | 'estimate' | 'accurate';

export interface SearchRequest {
  /** Undefined for a system-level search across `types`. */
  resourceType?: string;
  /** For system search: the types searched (`_type`), undefined for every type. */
  types?: string[];
  criteria: SearchCriterion[];
  count: number;
  sort: SortKey[];
  total: TotalMode;
  summary?: SummaryMode;
  elements?: string[];
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  cursor?: string;
  /** `_offset` (the GraphQL list argument): rows skipped before the page; REST pages by cursor. */
  offset?: number;
  /** Compartment search (`GET /fhir/Patient/1/Observation`): resources linked to the owner by any of `params`. */
  compartment?: { resourceType: string; id: string; params: string[] };
  /**
   * The top-level elements the page's resources are cut down to in SQL (a GraphQL list reads only
   * what its query selects); undefined: whole resources. Never set by a REST search.
   */
  projection?: readonly string[];
  /** Parameters ignored under lenient handling, reported in an OperationOutcome entry. */
  issues: OutcomeIssue[];
  /** The query string of this search without paging, for `self` and paging links. */
  canonicalQuery: string;
}

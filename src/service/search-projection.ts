/**
 * A search whose page the GraphQL facade reads only in part: a list field (`PatientList`) reads
 * the elements its query selects, so PostgreSQL cuts each resource down to those (as the graph's
 * reads and reverse references already do, `search/sql/projected-content.ts`) and Node parses a
 * few elements of each instead of whole resources.
 */
import type { SearchRequest } from '../search/search-request.ts';

/** How a caller of `FhirService.search` wants its search run. */
export interface SearchOptions {
  /** Refuse unknown parameters (400) instead of ignoring and reporting them. */
  strict?: boolean;
  /**
   * The only top-level elements the caller reads of each matched resource (with `resourceType`
   * and `id`); the Bundle's entries then hold just those. Undefined: whole resources.
   */
  elements?: readonly string[];
}

/**
 * Whether a search's page may be cut down in SQL: not when something else reads its resources
 * whole (`_include`/`_revinclude` follow references in them, `_summary`/`_elements` shape them
 * and tag them SUBSETTED, a Binary carries its bytes beside its JSON) or they live elsewhere (the
 * audit trail's own table).
 */
export function isProjectable(request: SearchRequest): boolean {
  return request.resourceType !== undefined && request.resourceType !== 'Binary' && request.resourceType !== 'AuditEvent'
    && request.include.length === 0 && request.revinclude.length === 0
    && request.summary === undefined && request.elements === undefined && request.compartment === undefined;
}

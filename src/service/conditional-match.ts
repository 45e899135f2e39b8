/**
 * The lookup behind conditional create, update and delete (`If-None-Exist`, `PUT` and `DELETE`
 * on `/fhir/{type}?criteria`, and `ifNoneExist` in Bundle entries): the full search engine in
 * strict mode, since ignoring an unknown parameter would widen a conditional write. It reads at
 * most two rows: one answers the match, two mean "more than one", whatever the real count, and
 * are refused the same way on every path (412 `multiple-matches`).
 * https://hl7.org/fhir/R4/http.html#ccreate  https://hl7.org/fhir/R4/http.html#cond-update
 */
import type { SearchLimits } from '../config.ts';
import { badRequest, multipleMatches } from '../fhir/outcomes.ts';
import { readSearchPairs } from '../search/search-query-text.ts';
import type { FhirModel } from '../fhir/fhir-model.ts';
import { parseSearch } from '../search/parse-search.ts';
import { buildSearchQuery } from '../search/sql/build-search-query.ts';
import type { Queryable } from '../store/database.ts';
import type { RequestContext } from './request-context.ts';
import { authorizeCriteria } from './search-authorization.ts';

/** What a conditional lookup needs: the model and the search cost bounds. */
export interface ConditionalMatchDeps {
  readonly model: FhirModel;
  readonly searchLimits: SearchLimits;
}

/** Which conditional interaction asks, for the refusal's wording and expression. */
export interface ConditionalSubject {
  /** The sentence's subject: `The If-None-Exist criteria`, `The criteria`. */
  criteriaName: string;
  /** `create`, `update` or `delete`. */
  interaction: string;
  /** The Bundle entry (`Bundle.entry[3]`), when the criteria come from one. */
  label?: string;
  /** The element holding the criteria, for the expression. */
  expression?: string;
}

/**
 * The id of the one live resource matching `criteria`, or `undefined` when none does; 412
 * `multiple-matches` when more than one does. The lookup is serialised on a hash of the criteria
 * (DECISIONS.md §2), so two concurrent conditional writes see each other.
 */
export async function findConditionalMatch(
  tx: Queryable, deps: ConditionalMatchDeps, ctx: RequestContext, resourceType: string, criteria: string, subject: ConditionalSubject,
): Promise<string | undefined> {
  const query = criteria.replace(/^[A-Za-z]*\?/, '');
  const params = readSearchPairs([query], deps.searchLimits);
  if (params.length === 0) throw badRequest('Conditional criteria must name at least one search parameter', subject.expression);
  const request = parseSearch(deps.model, resourceType, params, { strict: true, defaultCount: 1, maxCount: 1, limits: deps.searchLimits });
  if (request.criteria.length === 0 || request.include.length || request.revinclude.length) {
    throw badRequest('Conditional criteria take search parameters only', subject.expression);
  }
  request.count = 1;
  request.sort = [];
  authorizeCriteria(ctx, request.criteria);
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 1))', [`${resourceType}?${request.canonicalQuery}`]);
  const built = buildSearchQuery(request, [resourceType], deps.model, ctx.fhirBaseUrl, undefined);
  const ids = (await tx.query<{ id: string }>(built.sql, built.params)).map((r) => r.id);
  if (ids.length > 1) {
    const prefix = subject.label ? `${subject.label}: ` : '';
    throw multipleMatches(
      `${prefix}${subject.criteriaName} match more than one resource; a conditional ${subject.interaction} needs at most one`,
      subject.expression,
    );
  }
  return ids[0];
}

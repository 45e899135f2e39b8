/**
 * What a search reads, authorised before it runs: the searched types, and every type a criterion
 * reads through a chain (`subject:Patient.name`) or `_has`, each of which the caller's scope must
 * let it search. https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 */
import type { SearchCriterion } from '../search/search-request.ts';
import { authorize } from './authorize.ts';
import type { RequestContext } from './request-context.ts';

/** Every type a criterion reads (chains and `_has` read other types); each must be searchable. */
export function authorizeCriteria(ctx: RequestContext, criteria: SearchCriterion[]): void {
  for (const c of criteria) {
    if (c.chain) {
      for (const [i, type] of c.chain.targetTypes.entries()) {
        authorize(ctx, type, 's');
        authorizeCriteria(ctx, [c.chain.criterion[i]]);
      }
    }
    if (c.has) {
      authorize(ctx, c.has.sourceType, 's');
      authorizeCriteria(ctx, [c.has.criterion]);
    }
  }
}

/**
 * Opens change streams for subscribers (GraphQL `TChanged`, CONTRACT.md "Change triggers"), one
 * instance per process over its change feed. Opening authorises like the REST search the criteria
 * are: reading `T` always, searching `T` and every type a chain or `_has` names when there are
 * criteria (`ChangeCriteria.searchedTypes`); parses the criteria under the REST search's
 * limits (400 with the reason); and checks the cursor (400 when it is not ours, `CursorExpired`
 * 410 when pruned). Every stream of the process shares one loader of event versions, so an event
 * costs one read whatever the number of subscribers.
 * https://hl7.org/fhir/R4/subscription.html  https://hl7.org/fhir/R4/search.html
 */
import { parseChangeCriteria, type ChangeAction, type ChangeFeed } from '../../changes/index.ts';
import type { SearchLimits } from '../../config.ts';
import type { FhirModel } from '../../fhir/fhir-model.ts';
import type { Queryable } from '../../store/database.ts';
import { authorize } from '../authorize.ts';
import { startInteraction } from '../interaction-start.ts';
import type { RequestContext } from '../request-context.ts';
import { ChangeStream, type ChangeStreamHooks } from './change-stream.ts';
import { EventVersionCache } from './event-versions.ts';

/** What a subscriber asks for. */
export interface ChangeStreamRequest {
  resourceType: string;
  /** A FHIR search query string for `resourceType` (`code=http://loinc.org|8867-4&subject=Patient/1`); absent: every change. */
  criteria?: string | null;
  /** Only these actions; absent: all. */
  actions?: readonly ChangeAction[] | null;
  /** Resume after this event cursor; absent: changes from now on. */
  since?: string | null;
}

/** What streams read and check with (the service's). */
export interface ChangeStreamDeps {
  /** Where chains and `_has` in criteria are evaluated against current data. */
  db: Queryable;
  model: FhirModel;
  /** The REST search's limits (`SEARCH_MAX_*`), which criteria get. */
  searchLimits: SearchLimits;
}

/** The change streams of one process. */
export class ChangeStreams {
  private readonly versions: EventVersionCache;

  constructor(private readonly deps: ChangeStreamDeps, private readonly feed: ChangeFeed, private readonly fhirBaseUrl: string) {
    this.versions = new EventVersionCache(feed, fhirBaseUrl);
  }

  /**
   * Authorises and opens a stream for `ctx`; throws a `FhirError` (404 unknown type, 403 scope,
   * 400 criteria or cursor, 410 `CursorExpired`) before anything is subscribed.
   */
  async open(ctx: RequestContext, request: ChangeStreamRequest, hooks: ChangeStreamHooks = {}): Promise<ChangeStream> {
    const { resourceType } = request;
    // The order of every interaction (interaction-start.ts): unknown type 404, then scope 403.
    startInteraction(ctx, this.deps.model, { action: 'E', interaction: 'subscription-start', types: [resourceType], permissions: [[resourceType, 'r']] });
    const text = request.criteria?.trim();
    const criteria = text ? parseChangeCriteria(text, { resourceType, limits: this.deps.searchLimits, fhirBaseUrl: this.fhirBaseUrl, model: this.deps.model }) : undefined;
    if (criteria) {
      // Criteria search the type's data as a REST search would, chains and `_has` other types'.
      authorize(ctx, resourceType, 's');
      for (const type of criteria.searchedTypes) authorize(ctx, type, 's');
    }
    const actions = request.actions && request.actions.length > 0 ? [...new Set(request.actions)] : undefined;
    const stream = new ChangeStream({ feed: this.feed, versions: this.versions, db: this.deps.db, ctx, resourceType, criteria, actions, hooks });
    await stream.start(request.since ?? null);
    return stream;
  }
}

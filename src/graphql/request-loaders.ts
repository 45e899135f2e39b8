/**
 * The per-request DataLoaders of the graph: every `Reference.resource` of a query level is read
 * in one statement, every reverse-reference list of a level (same source type, parameter and
 * arguments) in one statement, so the SQL a query costs grows with its depth, never with the
 * number of rows. Stored JSON is parsed once per resource per request.
 * https://github.com/graphql/dataloader
 */
import DataLoader from 'dataloader';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import type { ChangeStream } from '../service/change-streams/change-stream.ts';
import type { FhirService } from '../service/fhir-service.ts';
import type { RequestContext } from '../service/request-context.ts';
import type { StoredVersion } from '../store/resource-repository.ts';
import type { KeptAnswer } from './kept-answer.ts';

export type FhirObject = Record<string, unknown> & { resourceType: string; id?: string };

/** What every resolver receives as its context. */
export interface GraphQLContext {
  ctx: RequestContext;
  service: FhirService;
  loaders: RequestLoaders;
  /** True on `/fhir/{type}/{id}/$graphql`, whose answer is the resource's fields at the root. */
  rootedAt?: boolean;
  /** What the route and the plugins pass each other (set by the route). */
  exchange?: RouteExchange;
  /** A subscription's change stream, opened and authorised before execution (WebSocket only). */
  changes?: ChangeStream;
}

/**
 * Between a GraphQL route and Apollo's plugins, held by reference (Apollo gives each operation a
 * shallow copy of the context, so a plugin's assignment to the context itself is lost).
 */
export interface RouteExchange {
  /** Gives the request's gate slot back early: an operation the schema worker answers waits on another thread. */
  releaseSlot(): void;
  /** The schema worker's answer, which the route sends as bytes in place of Apollo's body. */
  schemaAnswer?: KeptAnswer;
}

export class RequestLoaders {
  /** `Type/id` → the current version (whole), or null when unknown or deleted. */
  readonly resource: DataLoader<string, StoredVersion | null>;
  private readonly projected = new Map<string, DataLoader<string, StoredVersion | null>>();
  private readonly reverse = new Map<string, DataLoader<string, StoredVersion[]>>();
  private readonly parsed = new WeakMap<StoredVersion, FhirObject>();

  constructor(private readonly service: FhirService, private readonly ctx: RequestContext) {
    this.resource = this.readLoader(undefined);
  }

  private readLoader(elements: readonly string[] | undefined): DataLoader<string, StoredVersion | null> {
    return new DataLoader(async (keys) => {
      const wanted = keys.map((key) => {
        const slash = key.indexOf('/');
        return { resourceType: key.slice(0, slash), id: key.slice(slash + 1) };
      });
      const found = await this.service.readMany(this.ctx, wanted, elements);
      return keys.map((key) => found.get(key) ?? null);
    }, { maxBatchSize: 1000 });
  }

  /**
   * The loader of `Type/id` reads cut down to `elements` (undefined: whole resources); each
   * distinct set of elements is one loader, so one statement per level and selection.
   */
  resourceWith(elements: readonly string[] | undefined): DataLoader<string, StoredVersion | null> {
    if (!elements) return this.resource;
    const shape = elements.join(',');
    let loader = this.projected.get(shape);
    if (!loader) this.projected.set(shape, (loader = this.readLoader(elements)));
    return loader;
  }

  /** The loader of one reverse-reference field shape (and selection): keys are target ids. */
  reverseFor(
    sourceType: string, referenceParam: string, targetType: string, params: [string, string][], elements?: readonly string[],
  ): DataLoader<string, StoredVersion[]> {
    const shape = JSON.stringify([sourceType, referenceParam, targetType, params, elements ?? null]);
    let loader = this.reverse.get(shape);
    if (!loader) {
      loader = new DataLoader(async (ids) => {
        const grouped = await this.service.searchReverse(this.ctx, sourceType, referenceParam, targetType, [...ids], params, elements);
        return ids.map((id) => grouped.get(id) ?? []);
      }, { maxBatchSize: 1000 });
      this.reverse.set(shape, loader);
    }
    return loader;
  }

  /** The parsed resource of a stored version (parsed once per request). */
  object(version: StoredVersion): FhirObject {
    let parsed = this.parsed.get(version);
    if (!parsed) {
      parsed = parseFhirJson(version.content!) as FhirObject;
      this.parsed.set(version, parsed);
    }
    return parsed;
  }
}

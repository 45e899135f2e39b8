/**
 * The per-request DataLoaders of the graph: every `Reference.resource` of a query level is read
 * in one statement, every reverse-reference list of a level (same source type, parameter and
 * arguments) in one statement, so the SQL a query costs grows with its depth, never with the
 * number of rows. Stored JSON is parsed once per resource per request.
 * https://github.com/graphql/dataloader
 */
import DataLoader from 'dataloader';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { FhirError } from '../fhir/outcomes.ts';
import { isAllowed } from '../service/authorize.ts';
import type { ChangeStream } from '../service/change-streams/change-stream.ts';
import type { FhirService } from '../service/fhir-service.ts';
import type { RequestContext } from '../service/request-context.ts';
import type { StoredVersion } from '../store/resource-repository.ts';
import type { FollowedReference } from './followed-references.ts';
import { toGraphQLError } from './graphql-errors.ts';
import type { KeptAnswer } from './kept-answer.ts';
import { parseLocalReference } from './local-reference.ts';
import { selectedElements } from './selected-elements.ts';

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

/**
 * A batch's failure as the fields it fails see it: a domain error becomes a GraphQL error with
 * its `extensions.code` (made once per batch here, not once per field by each resolver).
 */
function graphQLFailure(err: unknown): unknown {
  return err instanceof FhirError ? toGraphQLError(err) : err;
}

export class RequestLoaders {
  /** `Type/id` → the current version (whole), or null when unknown or deleted. */
  readonly resource: DataLoader<string, StoredVersion | null>;
  private readonly referenced = new Map<string, DataLoader<string, FhirObject | null>>();
  /** What each loader of {@link resourceObjects} has read so far, by loader, for answers without a promise. */
  private readonly settled = new WeakMap<DataLoader<string, FhirObject | null>, Map<string, FhirObject | null>>();
  private readonly reverse = new Map<string, DataLoader<string, FhirObject[]>>();
  private readonly parsed = new WeakMap<StoredVersion, FhirObject>();

  constructor(private readonly service: FhirService, private readonly ctx: RequestContext) {
    this.resource = new DataLoader((keys) => this.readVersions(keys, undefined), { maxBatchSize: 1000 });
  }

  private async readVersions(keys: readonly string[], elements: readonly string[] | undefined): Promise<(StoredVersion | null)[]> {
    const wanted = keys.map((key) => {
      const slash = key.indexOf('/');
      return { resourceType: key.slice(0, slash), id: key.slice(slash + 1) };
    });
    const found = await this.service.readMany(this.ctx, wanted, elements);
    return keys.map((key) => found.get(key) ?? null);
  }

  /**
   * The loader of the resources `Type/id` names, parsed, cut down to `elements` (undefined: whole
   * resources); each distinct set of elements is one loader, so one statement per level and
   * selection. It yields what `Reference.resource` answers, so a reference's resolver returns the
   * loader's own promise: no promise of its own on each of a nested answer's ~500 references
   * (each also runs the async-context hooks), and a failed read fails its fields as GraphQL errors.
   */
  resourceObjects(elements: readonly string[] | undefined): DataLoader<string, FhirObject | null> {
    const shape = elements ? elements.join(',') : '*';
    let loader = this.referenced.get(shape);
    if (!loader) {
      const settled = new Map<string, FhirObject | null>();
      loader = new DataLoader(async (keys) => {
        try {
          const versions = elements ? await this.readVersions(keys, elements) : await this.resource.loadMany(keys);
          return versions.map((version, i) => {
            if (version instanceof Error) return graphQLFailure(version) as Error;
            const value = version === null ? null : this.object(version);
            settled.set(keys[i], value);
            return value;
          });
        } catch (err) {
          throw graphQLFailure(err);
        }
      }, { maxBatchSize: 1000 });
      this.referenced.set(shape, loader);
      this.settled.set(loader, settled);
    }
    return loader;
  }

  /**
   * The resource `key` names, cut down to `elements`: the value itself when it has been read
   * already (a reference its list read, {@link reverseFor}), else the loader's promise.
   */
  resourceObject(elements: readonly string[] | undefined, key: string): FhirObject | null | Promise<FhirObject | null> {
    const loader = this.resourceObjects(elements);
    const value = this.settled.get(loader)!.get(key);
    return value === undefined ? loader.load(key) : value;
  }

  /**
   * The loader of one reverse-reference field shape (and selection): keys are target ids, values
   * the parsed resources referring to each (see {@link resourceObjects} for why parsed). The
   * references its items will follow (`followed`) are read before it answers, in one statement
   * per selection as their resolvers would have, which then answer them at once.
   */
  reverseFor(
    sourceType: string, referenceParam: string, targetType: string, params: [string, string][], elements?: readonly string[],
    followed: readonly FollowedReference[] = [],
  ): DataLoader<string, FhirObject[]> {
    const shape = JSON.stringify([sourceType, referenceParam, targetType, params, elements ?? null]);
    let loader = this.reverse.get(shape);
    if (!loader) {
      loader = new DataLoader(async (ids) => {
        try {
          const grouped = await this.service.searchReverse(this.ctx, sourceType, referenceParam, targetType, [...ids], params, elements);
          const lists = ids.map((id) => (grouped.get(id) ?? []).map((version) => this.object(version)));
          if (followed.length) await this.readFollowed(lists, followed);
          return lists;
        } catch (err) {
          throw graphQLFailure(err);
        }
      }, { maxBatchSize: 1000 });
      this.reverse.set(shape, loader);
    }
    return loader;
  }

  /**
   * Reads the references `followed` from the items of `lists` through the loaders their
   * resolvers use, skipping the types the caller may not read (their resolvers refuse them). A
   * failed read is left to those resolvers, which ask again and fail their own fields.
   */
  private async readFollowed(lists: FhirObject[][], followed: readonly FollowedReference[]): Promise<void> {
    // Each resource once per loader: items often share their references (one performer for many Observations).
    const keys = new Map<DataLoader<string, FhirObject | null>, Set<string>>();
    for (const list of lists) {
      for (const item of list) {
        for (const { element, resource } of followed) {
          const value = item[element];
          for (const entry of Array.isArray(value) ? value : [value]) {
            const reference = (entry as { reference?: unknown } | null | undefined)?.reference;
            const named = typeof reference === 'string' ? parseLocalReference(reference) : undefined;
            if (!named || !isAllowed(this.ctx, named.type, 'r')) continue;
            const loader = this.resourceObjects(selectedElements(resource, named.type));
            let wanted = keys.get(loader);
            if (!wanted) keys.set(loader, (wanted = new Set()));
            wanted.add(`${named.type}/${named.id}`);
          }
        }
      }
    }
    // loadMany answers errors as values: a failed read is left to the resolvers.
    await Promise.all([...keys].map(([loader, wanted]) => loader.loadMany([...wanted])));
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

/**
 * Resolvers for the generated graph, derived from the schema's own field names (the FHIR GraphQL
 * conventions, https://hl7.org/fhir/R4/graphql.html): `Patient(_id)` (or `Patient(id)`),
 * `PatientList(…)`, `PatientConnection(…)` (whose cursors carry their search,
 * `connection-cursor.ts`), `Reference.resource`, reverse references `Patient.ObservationList(
 * _reference: subject, …)`, and the mutations `PatientCreate/Update/Delete`. Every resolver goes
 * through the core service, so validation, authorisation, versions, audit and change events are
 * the REST facade's; reads go through the per-request loaders, and every resource is parsed with
 * its decimals exact (`parseFhirJson`).
 */
import { GraphQLObjectType, type GraphQLFieldResolver, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import type { FhirModel } from '../fhir/fhir-model.ts';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { badRequest, FhirError, notFound } from '../fhir/outcomes.ts';
import { isAllowed } from '../service/authorize.ts';
import type { MutationResolvers, QueryResolvers, ReferenceResolvers, ResolverFn } from './generated/resolver-types.ts';
import { argumentsWithCursor, encodeConnectionCursor } from './connection-cursor.ts';
import { forbiddenError, toGraphQLError } from './graphql-errors.ts';
import { fhirScalars } from './graphql-scalars.ts';
import { followedReferences } from './followed-references.ts';
import { parseLocalReference } from './local-reference.ts';
import { selectedElements } from './selected-elements.ts';
import type { FhirObject, GraphQLContext } from './request-loaders.ts';

type Resolver = GraphQLFieldResolver<unknown, GraphQLContext, Record<string, unknown>>;
/** A resolver as the map holds it: which field it serves, and so its signature, is known at run time. */
type FieldResolver = ResolverFn<unknown, never, GraphQLContext, never>;
type ResolverMap = Record<string, Record<string, FieldResolver> | unknown>;

/**
 * The generated signatures (`./generated/resolver-types.ts`, `npm run codegen`) of the fields
 * made per resource type. Fields of one kind differ only in their search arguments, which go to
 * the service as they come, so `Patient`'s stand for every type's.
 */
type ReadResolver = NonNullable<QueryResolvers<GraphQLContext>['Patient']>;
type ListResolver = NonNullable<QueryResolvers<GraphQLContext>['PatientList']>;
type ConnectionResolver = NonNullable<QueryResolvers<GraphQLContext>['PatientConnection']>;
/** Update's arguments (`id`, `res`, `ifMatch`) cover Create's and Delete's. */
type MutationResolver = NonNullable<MutationResolvers<GraphQLContext>['PatientUpdate']>;

/** Arguments that shape results rather than select resources. */
const RESULT_ARGS = new Set(['_count', '_offset', '_sort', '_cursor', '_include', '_revinclude', '_total', '_reference']);

/** A GraphQL argument name back to its search parameter code (`general_practitioner` → `general-practitioner`). */
export function searchParamCode(argName: string): string {
  return argName.replace(/(?!^)_/g, '-');
}

/** Turns GraphQL arguments into search parameters, in a stable order. */
export function searchParamsOf(args: Record<string, unknown>): [string, string][] {
  const params: [string, string][] = [];
  for (const [name, value] of Object.entries(args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (value === undefined || value === null || name === '_reference') continue;
    const code = RESULT_ARGS.has(name) ? name : searchParamCode(name);
    for (const item of Array.isArray(value) ? value : [value]) params.push([code, String(item)]);
  }
  return params;
}

function graphQLErrorOf(err: unknown): unknown {
  return err instanceof FhirError ? toGraphQLError(err) : err;
}

/**
 * Runs a resolver, turning domain errors into GraphQL errors with `extensions.code`. It adds no
 * promise of its own to a resolver's (a nested answer resolves ~500 references, and each promise
 * also runs the async-context hooks).
 */
function guarded<TResult, TParent, TArgs>(resolver: ResolverFn<TResult, TParent, GraphQLContext, TArgs>): ResolverFn<TResult, TParent, GraphQLContext, TArgs> {
  return (source, args, context, info) => {
    let result: Promise<TResult> | TResult;
    try {
      result = resolver(source, args, context, info);
    } catch (err) {
      throw graphQLErrorOf(err);
    }
    return result instanceof Promise ? result.catch((err: unknown) => { throw graphQLErrorOf(err); }) : result;
  };
}

function wantsField(info: GraphQLResolveInfo, name: string): boolean {
  return info.fieldNodes.some((node) => node.selectionSet?.selections.some((s) => s.kind === 'Field' && s.name.value === name));
}

/**
 * The id a read field names: `_id` (the FHIR GraphQL page's form) or `id` (Medplum's and HAPI's
 * documentation), exactly one of them.
 */
function readId(args: { _id?: unknown; id?: unknown }): string {
  const given = [args._id, args.id].filter((value) => value !== undefined && value !== null);
  if (given.length !== 1) {
    throw badRequest(`Name the resource to read with either \`id\` or \`_id\`, not ${given.length === 0 ? 'neither' : 'both'}`, '_id');
  }
  return String(given[0]);
}

function readResolver(type: string): ReadResolver {
  return async (_source, args, context) => {
    const version = await context.service.read(context.ctx, type, readId(args));
    return context.loaders.object(version);
  };
}

/** What a list cannot return (other types, a total), so it neither runs nor is charged for it. */
const LIST_IGNORED = new Set(['_include', '_revinclude', '_total']);

function listResolver(type: string): ListResolver {
  return async (_source, args, context, info) => {
    const params = searchParamsOf(args).filter(([name]) => !LIST_IGNORED.has(name));
    // Only the selected elements of each match come from PostgreSQL (`selected-elements.ts`).
    const bundle = await context.service.search(context.ctx, type, params, { strict: true, elements: selectedElements(info, type) });
    return bundle.entry.filter((e) => e.search?.mode === 'match').map((e) => parseFhirJson(e.resourceJson!) as FhirObject);
  };
}

function cursorOf(url: string | undefined): string | undefined {
  return url ? new URL(url).searchParams.get('_cursor') ?? undefined : undefined;
}

function connectionResolver(type: string): ConnectionResolver {
  return async (_source, given, context, info) => {
    // A cursor carries the arguments of the search it pages (`connection-cursor.ts`).
    const args = argumentsWithCursor(given, info.parentType.getFields()[info.fieldName].args);
    const params = searchParamsOf(args);
    if (wantsField(info, 'count') && (args._total === undefined || args._total === null)) params.push(['_total', 'accurate']);
    const bundle = await context.service.search(context.ctx, type, params, { strict: true });
    const cursor = (relation: string) => {
      const page = cursorOf(bundle.link?.find((l) => l.relation === relation)?.url);
      return page === undefined ? undefined : encodeConnectionCursor(args, page);
    };
    const matches = bundle.entry.filter((e) => e.search?.mode !== 'outcome');
    return {
      count: bundle.total,
      offset: typeof args._offset === 'number' ? args._offset : 0,
      pagesize: matches.filter((e) => e.search?.mode === 'match').length,
      first: undefined,
      previous: cursor('previous'),
      next: cursor('next'),
      edges: matches.map((e) => {
        const resource = parseFhirJson(e.resourceJson!) as FhirObject;
        // An included resource of another type is no `T`: it goes in `included` only.
        return {
          mode: e.search?.mode,
          score: e.search?.score,
          resource: resource.resourceType === type ? resource : null,
          included: e.search?.mode === 'include' ? resource : null,
        };
      }),
    };
  };
}

/**
 * Runs a resolver whose promise comes from a request loader, which fails with GraphQL errors
 * already (`request-loaders.ts`): only what it throws at once is converted, so the loader's
 * promise is returned as it is, with no promise added per field.
 */
function guardedAtOnce<TResult, TParent, TArgs>(resolver: ResolverFn<TResult, TParent, GraphQLContext, TArgs>): ResolverFn<TResult, TParent, GraphQLContext, TArgs> {
  return (source, args, context, info) => {
    try {
      return resolver(source, args, context, info);
    } catch (err) {
      throw graphQLErrorOf(err);
    }
  };
}

/**
 * `Reference.resource`: the referenced resource through the loader, FORBIDDEN when unreadable.
 * Not an async function: a reference that names no local resource is answered at once.
 */
const referenceResolver: NonNullable<ReferenceResolvers<GraphQLContext>['resource']> = (source, args, context, info) => {
  const reference = (source as { reference?: unknown }).reference;
  if (typeof reference !== 'string') return null;
  const named = parseLocalReference(reference);
  if (!named) return null;
  const { type, id } = named;
  if (typeof args.type === 'string' && args.type !== type) return null;
  if (!isAllowed(context.ctx, type, 'r')) throw forbiddenError(`The access token's scope does not allow reading ${type}`);
  // Read already (with its list, `followed-references.ts`): answered at once.
  return context.loaders.resourceObject(selectedElements(info, type), `${type}/${id}`);
};

/**
 * A reverse-reference list through its loader. Its refusals stay rejections, as when it was an
 * async function, so errors keep their order in the answer.
 */
function reverseResolver(sourceType: string, targetType: string): Resolver {
  return (source, args, context, info) => {
    const id = (source as FhirObject).id;
    if (!id || typeof args._reference !== 'string') return [];
    try {
      if (!isAllowed(context.ctx, sourceType, 's')) throw forbiddenError(`The access token's scope does not allow searching ${sourceType}`);
      const loader = context.loaders.reverseFor(
        sourceType, searchParamCode(args._reference), targetType, searchParamsOf(args), selectedElements(info, sourceType), followedReferences(info, sourceType),
      );
      return loader.load(id);
    } catch (err) {
      return Promise.reject(graphQLErrorOf(err));
    }
  };
}

/**
 * `Binary.data`: a stored Binary's bytes live outside its JSON (src/store/binary-store.ts), so the
 * field reads them, as base64, for the version resolved (its `meta.versionId`), up to the inline
 * limit (`PAYLOAD_TOO_LARGE` beyond: the REST read streams any size). A Binary that is no stored
 * version (contained) answers the `data` it carries.
 */
const binaryDataResolver: Resolver = async (source, _args, context) => {
  const binary = source as FhirObject & { data?: unknown; meta?: { versionId?: unknown } };
  if (typeof binary.data === 'string') return binary.data;
  const versionId = Number(binary.meta?.versionId);
  if (!binary.id || !Number.isInteger(versionId)) return null;
  return context.service.binary.inlineData(context.ctx, binary.id, versionId);
};

/** A mutation's `res` argument as a resource of `type`. */
function resourceInput(type: string, value: unknown): Record<string, unknown> {
  return { ...(value as Record<string, unknown>), resourceType: type };
}

function mutationResolver(type: string, kind: 'Create' | 'Update' | 'Delete'): MutationResolver {
  return async (_source, args, context) => {
    const { service, ctx } = context;
    if (kind === 'Create') {
      const result = await service.create(ctx, type, resourceInput(type, args.res));
      return context.loaders.object(result.version);
    }
    if (kind === 'Update') {
      const ifMatch = typeof args.ifMatch === 'string' ? Number(/(\d+)/.exec(args.ifMatch)?.[1]) : undefined;
      const body = resourceInput(type, { ...(args.res as object), id: args.id });
      const result = await service.update(ctx, type, String(args.id), body, { ifMatch });
      return context.loaders.object(result.version);
    }
    const before = await service.read(ctx, type, String(args.id)).catch((err) => {
      if (err instanceof FhirError && err.status === 410) throw notFound(`${type}/${String(args.id)} is already deleted`);
      throw err;
    });
    await service.delete(ctx, type, String(args.id));
    return context.loaders.object(before);
  };
}

/**
 * Builds the resolver map for a schema generated from `model`: the root fields, reverse
 * references on every resource type, `Reference.resource`, the `Resource` interface and the
 * custom scalars.
 */
export function buildResolvers(schema: GraphQLSchema, model: FhirModel): ResolverMap {
  const isResource = (name: string) => model.isResourceType(name);
  const resolvers: ResolverMap = { ...fhirScalars };
  const query: Record<string, FieldResolver> = {};
  for (const name of Object.keys(schema.getQueryType()?.getFields() ?? {})) {
    if (isResource(name)) query[name] = guarded(readResolver(name));
    else if (name.endsWith('List') && isResource(name.slice(0, -4))) query[name] = guarded(listResolver(name.slice(0, -4)));
    else if (name.endsWith('Connection') && isResource(name.slice(0, -10))) query[name] = guarded(connectionResolver(name.slice(0, -10)));
  }
  resolvers.Query = query;
  const mutation: Record<string, FieldResolver> = {};
  for (const name of Object.keys(schema.getMutationType()?.getFields() ?? {})) {
    const kind = (['Create', 'Update', 'Delete'] as const).find((k) => name.endsWith(k) && isResource(name.slice(0, -k.length)));
    if (kind) mutation[name] = guarded(mutationResolver(name.slice(0, -kind.length), kind));
  }
  if (Object.keys(mutation).length) resolvers.Mutation = mutation;
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || !isResource(type.name)) continue;
    const fields: Record<string, FieldResolver> = {};
    for (const field of Object.keys(type.getFields())) {
      if (field.endsWith('List') && isResource(field.slice(0, -4))) fields[field] = guardedAtOnce(reverseResolver(field.slice(0, -4), type.name));
    }
    if (type.name === 'Binary' && type.getFields().data) fields.data = guarded(binaryDataResolver);
    if (Object.keys(fields).length) resolvers[type.name] = fields;
  }
  if (schema.getType('Reference')) resolvers.Reference = { resource: guardedAtOnce(referenceResolver) } satisfies ReferenceResolvers<GraphQLContext>;
  if (schema.getType('Resource')) resolvers.Resource = { __resolveType: (value: FhirObject) => value.resourceType };
  return resolvers;
}

/**
 * The graph as an Apollo Federation v2 subgraph: the schema additions (`_Any`, `_Entity`,
 * `_Service`, `Query._service`, `Query._entities`) added to the executable FHIR schema directly.
 * `@apollo/subgraph`'s `buildSubgraphSchema` would re-parse and re-validate the 3.8 MB SDL, which
 * costs about 1.3 s and 65 MB of heap more than the schema itself (DECISIONS.md §6 allows 1 s for
 * the whole build); this costs a few milliseconds, and the subgraph SDL is printed on the first
 * `_service` query. Every resource type is an entity keyed by `id`, resolved through the
 * request's loader and authorised like `Reference.resource`.
 * https://www.apollographql.com/docs/federation/subgraph-spec/
 */
import {
  GraphQLError,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  GraphQLUnionType,
  valueFromASTUntyped,
  type GraphQLFieldConfig,
  type GraphQLNamedType,
} from 'graphql';
import { listEntityTypes } from '../codegen/build-fhir-sdl.ts';
import type { FhirModel } from '../fhir/fhir-model.ts';
import { FhirError, invariant } from '../fhir/outcomes.ts';
import { isAllowed } from '../service/authorize.ts';
import { subgraphSdl } from './federation-sdl.ts';
import { forbiddenError, toGraphQLError } from './graphql-errors.ts';
import type { FhirObject, GraphQLContext } from './request-loaders.ts';

type Representation = { __typename: string; id: string };

/**
 * `_Any`: an entity representation, passed through as the JSON object the gateway sent.
 * https://www.apollographql.com/docs/federation/subgraph-spec/#scalar-_any
 */
const anyType = new GraphQLScalarType({
  name: '_Any',
  description: 'An entity representation: `__typename` and the fields of its `@key` (https://www.apollographql.com/docs/federation/subgraph-spec/#scalar-_any).',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});

/**
 * `_Service`: the subgraph's capabilities, its SDL with the federation directives.
 * https://www.apollographql.com/docs/federation/subgraph-spec/#type-_service
 */
function buildServiceType(model: FhirModel): GraphQLObjectType {
  return new GraphQLObjectType({
    name: '_Service',
    fields: { sdl: { type: new GraphQLNonNull(GraphQLString), resolve: () => subgraphSdl(model) } },
  });
}

/** A representation the subgraph can resolve, or a `BAD_USER_INPUT` error saying why not. */
function parseRepresentation(value: unknown, entities: ReadonlySet<string>): Representation {
  const { __typename: type, id } = (value ?? {}) as Record<string, unknown>;
  if (typeof type !== 'string' || !entities.has(type)) {
    throw new GraphQLError(`"${String(type)}" is not an entity of this subgraph`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  if (typeof id !== 'string' && typeof id !== 'number') {
    throw new GraphQLError(`A ${type} representation needs its key field "id"`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return { __typename: type, id: String(id) };
}

/** One representation to its resource (null when unknown or deleted), FORBIDDEN when unreadable. */
async function resolveEntity(value: unknown, entities: ReadonlySet<string>, context: GraphQLContext): Promise<FhirObject | null> {
  try {
    const { __typename: type, id } = parseRepresentation(value, entities);
    if (!isAllowed(context.ctx, type, 'r')) throw forbiddenError(`The access token's scope does not allow reading ${type}`);
    const version = await context.loaders.resource.load(`${type}/${id}`);
    return version ? context.loaders.object(version) : null;
  } catch (err) {
    throw err instanceof FhirError ? toGraphQLError(err) : err;
  }
}

/**
 * `Query._entities`: each representation resolved through the request's `resource` loader, so
 * one gateway fetch of any number of entities costs one read; an item that fails is null with
 * its own error at `_entities.<index>` (the list stays, as the spec's `[_Entity]!` allows).
 * https://www.apollographql.com/docs/federation/subgraph-spec/#resolve-requests-for-entities
 */
function buildEntitiesField(entityType: GraphQLUnionType, entities: ReadonlySet<string>): GraphQLFieldConfig<unknown, GraphQLContext> {
  return {
    type: new GraphQLNonNull(new GraphQLList(entityType)),
    args: { representations: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(anyType))) } },
    // Not async: graphql-js then completes each item's promise on its own and nulls only the failed ones.
    resolve: (_source, args, context) => (args.representations as unknown[]).map((value) => resolveEntity(value, entities, context)),
  };
}

/**
 * The executable schema `schema` (from `buildExecutableSchema`) extended with the Federation v2
 * subgraph additions: `scalar _Any`, `union _Entity` of every resource type, `type _Service`,
 * `Query._service: _Service!` and `Query._entities(representations: [_Any!]!): [_Entity]!`. The
 * FHIR types are shared, not copied, so their resolvers stay attached; a schema that already has
 * `_service` is returned unchanged.
 * https://www.apollographql.com/docs/federation/subgraph-spec/#subgraph-schema-additions
 */
export function withFederation(schema: GraphQLSchema, model: FhirModel): GraphQLSchema {
  const query = schema.getQueryType();
  invariant(query, 'the FHIR schema has a Query type');
  if (query.getFields()._service) return schema;
  const entityNames = listEntityTypes(model);
  const entities = new Set(entityNames);
  const entityType = new GraphQLUnionType({
    name: '_Entity',
    types: entityNames.map((name) => {
      const type = schema.getType(name);
      invariant(type instanceof GraphQLObjectType, `the entity ${name} is an object type`);
      return type;
    }),
    resolveType: (value: FhirObject) => value.resourceType,
  });
  const serviceType = buildServiceType(model);
  const queryConfig = query.toConfig();
  const federatedQuery = new GraphQLObjectType({
    ...queryConfig,
    fields: {
      ...queryConfig.fields,
      _service: { type: new GraphQLNonNull(serviceType), resolve: () => ({}) },
      _entities: buildEntitiesField(entityType, entities),
    },
  });
  const config = schema.toConfig();
  const types: GraphQLNamedType[] = config.types.filter((type) => type !== query);
  return new GraphQLSchema({ ...config, query: federatedQuery, types: [...types, anyType, entityType, serviceType] });
}

/**
 * The admin part of the graph: `_clients`, `_clientCreate` and `_clientDisable`, for `--admin`
 * tokens only, over the same client-admin calls as the operator CLI and the admin REST routes
 * (CONTRACT.md "Operator CLI", DECISIONS.md §2). Their names start with `_`, which no name the FHIR
 * model generates does, so they can never collide with it.
 * https://spec.graphql.org/October2021/#sec-Root-Operation-Types
 */
import { buildSchema, getNamedType, GraphQLObjectType, GraphQLScalarType, GraphQLSchema, type GraphQLFieldConfigMap, type GraphQLResolveInfo } from 'graphql';
import { createClient, disableClientById, listClientSummaries, type ClientSummary } from '../auth/client-admin.ts';
import { adminTypeDefs } from '../codegen/admin-type-defs.ts';
import { invariant, notFound } from '../fhir/outcomes.ts';
import type { Mutation_clientCreateArgs, Mutation_clientDisableArgs, MutationResolvers, QueryResolvers } from './generated/resolver-types.ts';
import { forbiddenError } from './graphql-errors.ts';
import type { GraphQLContext } from './request-loaders.ts';

function assertAdmin(context: GraphQLContext): void {
  if (!context.ctx.auth.admin) throw forbiddenError('only admin clients may administer clients');
}

/**
 * Resolvers of {@link adminTypeDefs}, typed by the signatures `npm run codegen` generates from it;
 * domain errors (bad scope, unknown client) go through `formatError`.
 */
export const adminResolvers: {
  Query: Required<Pick<QueryResolvers<GraphQLContext>, '_clients'>>;
  Mutation: Required<Pick<MutationResolvers<GraphQLContext>, '_clientCreate' | '_clientDisable'>>;
} = {
  Query: {
    async _clients(_root: unknown, _args: unknown, context: GraphQLContext): Promise<ClientSummary[]> {
      assertAdmin(context);
      return (await listClientSummaries(context.service.db)).clients;
    },
  },
  Mutation: {
    async _clientCreate(_root: unknown, args: Mutation_clientCreateArgs, context: GraphQLContext) {
      assertAdmin(context);
      return createClient(context.service.db, {
        name: args.name,
        scope: args.scope,
        jwks: args.jwks ?? undefined,
        admin: args.admin ?? undefined,
        rate: args.rate ?? undefined,
      }, { scope: context.ctx.auth.scopes.scope, rate: context.ctx.rateLimit });
    },
    async _clientDisable(_root: unknown, args: Mutation_clientDisableArgs, context: GraphQLContext): Promise<ClientSummary> {
      assertAdmin(context);
      // disableClientById sends the NOTIFY that drops the client's live tokens on every process.
      const { client_id } = await disableClientById(context.service.db, args.client_id);
      const summary = (await listClientSummaries(context.service.db)).clients.find((c) => c.client_id === client_id);
      if (!summary) throw notFound(`client ${client_id.slice(0, 80)} is not known`);
      return summary;
    },
  },
};

const extended = new WeakMap<GraphQLSchema, GraphQLSchema>();

type Resolver = (root: never, args: never, context: GraphQLContext, info: GraphQLResolveInfo) => unknown;

/**
 * The root type with the admin fields added: the admin SDL is built on its own, its `JSON`
 * arguments are pointed at the FHIR schema's `JSON` scalar, and each field gets its resolver.
 */
function withAdminFields(root: GraphQLObjectType, admin: GraphQLObjectType, json: GraphQLScalarType, resolvers: Record<string, Resolver>): GraphQLObjectType {
  const fields: GraphQLFieldConfigMap<unknown, GraphQLContext> = {};
  for (const [name, field] of Object.entries(admin.toConfig().fields)) {
    const args = Object.fromEntries(Object.entries(field.args ?? {}).map(([argName, arg]) =>
      [argName, getNamedType(arg.type).name === 'JSON' ? { ...arg, type: json } : arg]));
    fields[name] = { ...field, args, resolve: resolvers[name] as never };
  }
  const config = root.toConfig();
  return new GraphQLObjectType({ ...config, fields: { ...config.fields, ...fields } });
}

/**
 * The schema with the admin fields added. Only the `Query` and `Mutation` types are rebuilt
 * (their `toConfig()` keeps every resolver); every other type of the FHIR schema is reused as it
 * is, which costs far less than re-merging its thousands of types. The result is cached per
 * schema, like the schema itself. Wired in `buildExecutableSchema`, so every endpoint serves it.
 */
export function withAdminSchema(schema: GraphQLSchema): GraphQLSchema {
  // Idempotent: a schema that already has the admin fields is returned as it is.
  if (schema.getType('Client_Summary')) return schema;
  let result = extended.get(schema);
  if (!result) {
    const json = schema.getType('JSON');
    const query = schema.getQueryType();
    const mutation = schema.getMutationType();
    invariant(json instanceof GraphQLScalarType && query && mutation, 'the FHIR schema has a JSON scalar, a Query and a Mutation type');
    const admin = buildSchema(`scalar JSON\n${adminTypeDefs.replaceAll('extend type', 'type')}`);
    const config = schema.toConfig();
    result = new GraphQLSchema({
      ...config,
      query: withAdminFields(query, admin.getQueryType()!, json, adminResolvers.Query),
      mutation: withAdminFields(mutation, admin.getMutationType()!, json, adminResolvers.Mutation),
      types: config.types.filter((type) => type !== query && type !== mutation),
      assumeValid: true,
    });
    extended.set(schema, result);
  }
  return result;
}

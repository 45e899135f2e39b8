/**
 * The admin part of the graph: `_clients`, `_clientCreate` and `_clientDisable`, for `--admin`
 * tokens only, over the same client-admin calls as the operator CLI and the admin REST routes
 * (CONTRACT.md "Operator CLI", DECISIONS.md §2). Their names start with `_`, which no name the FHIR
 * model generates does, so they can never collide with it.
 * https://spec.graphql.org/October2021/#sec-Schema-Extension
 */
import { addResolversToSchema } from '@graphql-tools/schema';
import { extendSchema, parse, type GraphQLSchema } from 'graphql';
import { createClient, disableClientById, listClientSummaries, type ClientSummary } from '../auth/client-admin.ts';
import { notFound } from '../fhir/outcomes.ts';
import { forbiddenError } from './graphql-errors.ts';
import type { GraphQLContext } from './request-loaders.ts';

/** SDL of the admin fields, as an extension of the FHIR schema (which defines the `JSON` scalar). */
export const adminTypeDefs = /* GraphQL */ `
  "A registered client, without secrets."
  type Client_Summary {
    client_id: String!
    name: String!
    scope: String!
    status: String!
    admin: Boolean!
    "private_key_jwt (SMART Backend Services) or refresh_token (API key)"
    auth: String!
  }

  "A new client; an API-key client's refresh token is shown here once and never again."
  type Client_Created {
    client_id: String!
    refresh_token: String
  }

  extend type Query {
    "Every client (admin tokens only)."
    _clients: [Client_Summary!]!
  }

  extend type Mutation {
    "Creates a client, like \`clients create\` (admin tokens only)."
    _clientCreate(name: String!, scope: String!, jwks: JSON, admin: Boolean, rate: String): Client_Created!
    "Disables a client: every token it holds stops at once on every process (admin tokens only)."
    _clientDisable(client_id: String!): Client_Summary!
  }
`;

interface CreateArgs {
  name: string;
  scope: string;
  jwks?: unknown;
  admin?: boolean | null;
  rate?: string | null;
}

function assertAdmin(context: GraphQLContext): void {
  if (!context.ctx.auth.admin) throw forbiddenError('only admin clients may administer clients');
}

/** Resolvers of {@link adminTypeDefs}; domain errors (bad scope, unknown client) go through `formatError`. */
export const adminResolvers = {
  Query: {
    async _clients(_root: unknown, _args: unknown, context: GraphQLContext): Promise<ClientSummary[]> {
      assertAdmin(context);
      return (await listClientSummaries(context.service.db)).clients;
    },
  },
  Mutation: {
    async _clientCreate(_root: unknown, args: CreateArgs, context: GraphQLContext) {
      assertAdmin(context);
      return createClient(context.service.db, {
        name: args.name,
        scope: args.scope,
        jwks: args.jwks ?? undefined,
        admin: args.admin ?? undefined,
        rate: args.rate ?? undefined,
      });
    },
    async _clientDisable(_root: unknown, args: { client_id: string }, context: GraphQLContext): Promise<ClientSummary> {
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

/**
 * The schema with the admin fields added. `extendSchema` keeps every existing resolver,
 * `resolveType` and scalar (it copies each type's config), and costs far less than re-merging the
 * FHIR schema's thousands of types; the result is cached per schema, like the schema itself.
 */
export function withAdminSchema(schema: GraphQLSchema): GraphQLSchema {
  let result = extended.get(schema);
  if (!result) {
    const withTypes = extendSchema(schema, parse(adminTypeDefs), { assumeValidSDL: true });
    result = addResolversToSchema({ schema: withTypes, resolvers: adminResolvers as never, updateResolversInPlace: true });
    extended.set(schema, result);
  }
  return result;
}

/**
 * The SDL of the hand-written admin fields (`_clients`, `_clientCreate`, `_clientDisable`): read
 * by the GraphQL server (`src/graphql/admin-schema.ts`, which resolves them) and by codegen's
 * resolver-schema loader (so `npm run codegen` types their resolvers). Here, below both, so that
 * codegen never imports the GraphQL runtime.
 */

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

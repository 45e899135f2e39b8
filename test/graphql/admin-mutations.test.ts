/**
 * The admin GraphQL fields (issue 3, "admin GraphQL mutations that do the same for `--admin`
 * tokens"): `_clientCreate`, `_clients`, `_clientDisable`, over the same calls as the CLI. Until
 * `graphql-server.ts` serves them at `/graphql`, the operations run through an Apollo Server built
 * here over `withAdminSchema(buildExecutableSchema(service))`, with the context `registerGraphQL`
 * builds from the verified bearer token.
 */
import { ApolloServer } from '@apollo/server';
import { validateSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { withAdminSchema } from '../../src/graphql/admin-schema.ts';
import { formatGraphQLError } from '../../src/graphql/graphql-errors.ts';
import { buildExecutableSchema } from '../../src/graphql/graphql-server.ts';
import { RequestLoaders, type GraphQLContext } from '../../src/graphql/request-loaders.ts';
import { RequestAudit } from '../../src/service/audit/request-audit.ts';
import { findClient } from '../../src/store/oauth-repository.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let viaHttp = false;
let local: ApolloServer<GraphQLContext> | undefined;

interface GqlResult {
  data?: any;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** Runs an operation with a bearer token: over HTTP once wired, else through the local server. */
async function gql(query: string, variables: Record<string, unknown>, token: string): Promise<GqlResult> {
  if (viaHttp) {
    const res = await fhirFetch(`${t.url}/graphql`, { method: 'POST', body: JSON.stringify({ query, variables }), headers: { 'content-type': 'application/json' }, token });
    return res.body;
  }
  const service = t.server.service;
  const auth = await t.server.security.tokens.authenticate(`Bearer ${token}`);
  const defaults = t.config.rateLimit;
  const own = { perSecond: auth.rate.perSecond ?? defaults.perSecond, perMinute: auth.rate.perMinute ?? defaults.perMinute };
  const ctx = { fhirBaseUrl: t.fhirBase, auth, audit: new RequestAudit(), ip: '127.0.0.1', rateLimit: { own, defaults } };
  const response = await local!.executeOperation({ query, variables }, { contextValue: { ctx, service, loaders: new RequestLoaders(service, ctx) } });
  if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
  return response.body.singleResult as GqlResult;
}

beforeAll(async () => {
  t = await startTestServer();
  const probe = await fhirFetch(`${t.url}/graphql`, {
    method: 'POST', body: JSON.stringify({ query: '{ __type(name: "Client_Summary") { name } }' }), headers: { 'content-type': 'application/json' },
  });
  viaHttp = probe.body?.data?.__type?.name === 'Client_Summary';
  if (!viaHttp) {
    const base = buildExecutableSchema(t.server.service);
    const started = performance.now();
    const schema = withAdminSchema(base);
    console.info(`[admin-schema] withAdminSchema over the FHIR schema: ${(performance.now() - started).toFixed(0)} ms`);
    local = new ApolloServer<GraphQLContext>({ schema, formatError: formatGraphQLError });
    await local.start();
  }
}, 60_000);
afterAll(async () => {
  await local?.stop();
  await t?.close();
});

const CREATE = `mutation($name: String!, $scope: String!, $admin: Boolean, $rate: String) {
  _clientCreate(name: $name, scope: $scope, admin: $admin, rate: $rate) { client_id refresh_token }
}`;
const LIST = '{ _clients { client_id name scope status admin auth } }';
const DISABLE = 'mutation($id: String!) { _clientDisable(client_id: $id) { client_id name status auth } }';

describe('admin GraphQL mutations', () => {
  let clientId: string;
  let refreshToken: string;

  it('creates an API-key client whose refresh token works at /auth/token', async () => {
    const res = await gql(CREATE, { name: 'lab integration', scope: 'system/Patient.rs', rate: '5/s,100/min' }, t.adminToken);
    expect(res.errors).toBeUndefined();
    clientId = res.data._clientCreate.client_id;
    refreshToken = res.data._clientCreate.refresh_token;
    expect(refreshToken).toMatch(/^fgr_/);
    const access = await t.tokenFor(refreshToken);
    expect((await fhirFetch(`${t.url}/fhir/Patient?_count=1`, { token: access })).status).toBe(200);
  });

  it('lists clients without secrets', async () => {
    const res = await gql(LIST, {}, t.adminToken);
    expect(res.errors).toBeUndefined();
    const mine = res.data._clients.find((c: any) => c.client_id === clientId);
    expect(mine).toEqual({ client_id: clientId, name: 'lab integration', scope: 'system/Patient.rs', status: 'active', admin: false, auth: 'refresh_token' });
    expect(JSON.stringify(res.data)).not.toContain('fgr_');
  });

  it('disables a client: its live access token gets 401', async () => {
    const access = await t.tokenFor(refreshToken);
    expect((await fhirFetch(`${t.url}/fhir/Patient?_count=1`, { token: access })).status).toBe(200);
    const res = await gql(DISABLE, { id: clientId }, t.adminToken);
    expect(res.errors).toBeUndefined();
    expect(res.data._clientDisable).toEqual({ client_id: clientId, name: 'lab integration', status: 'disabled', auth: 'refresh_token' });
    // How soon (DECISIONS.md §7: within 1 s) depends on the machine's load; that it happens does not.
    await vi.waitFor(async () => {
      expect((await fhirFetch(`${t.url}/fhir/Patient?_count=1`, { token: access })).status).toBe(401);
    }, { timeout: 20_000, interval: 50 });
    await expect(t.tokenFor(refreshToken)).rejects.toThrow();
  });

  it('answers NOT_FOUND for an unknown client and BAD_USER_INPUT for a bad scope', async () => {
    const unknown = await gql(DISABLE, { id: '00000000-0000-4000-8000-000000000000' }, t.adminToken);
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const bad = await gql(CREATE, { name: 'x', scope: 'patient/*.*; drop' }, t.adminToken);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a non-admin token with FORBIDDEN on every admin field', async () => {
    const token = await t.tokenWithScope('system/*.*');
    const before = (await gql(LIST, {}, t.adminToken)).data._clients.length;
    for (const [query, variables] of [[LIST, {}], [CREATE, { name: 'sneaky', scope: 'system/*.*', admin: true }], [DISABLE, { id: clientId }]] as const) {
      const res = await gql(query, variables, token);
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    expect((await gql(LIST, {}, t.adminToken)).data._clients.length).toBe(before);
  });

  it('refuses an admin granting a scope it does not hold (FORBIDDEN), and allows one within it', async () => {
    const narrowAdmin = await t.tokenWithScope('system/Observation.rs', { admin: true, name: 'narrow admin' });
    const escalate = await gql(CREATE, { name: 'escalated', scope: 'system/*.*', admin: true }, narrowAdmin);
    expect(escalate.data ?? null).toBeNull();
    expect(escalate.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const within = await gql(CREATE, { name: 'within', scope: 'system/Observation.rs' }, narrowAdmin);
    expect(within.errors).toBeUndefined();
    expect(within.data._clientCreate.client_id).toBeTruthy();
  });

  it('refuses an admin granting a rate limit beyond its own (FORBIDDEN), and caps a new client without one at it (review 1, #9)', async () => {
    const rateLimitedAdmin = await t.tokenWithScope('system/*.*', { admin: true, name: 'rate-limited admin', rate: '20/s,100/min' });
    const unlimited = await gql(CREATE, { name: 'unlimited', scope: 'system/*.read', rate: '0/s,0/min' }, rateLimitedAdmin);
    expect(unlimited.data ?? null).toBeNull();
    expect(unlimited.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(unlimited.errors?.[0].message).toMatch(/rate limits it holds/);
    const faster = await gql(CREATE, { name: 'faster', scope: 'system/*.read', rate: '21/s' }, rateLimitedAdmin);
    expect(faster.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const unspecified = await gql(CREATE, { name: 'unspecified', scope: 'system/*.read' }, rateLimitedAdmin);
    expect(unspecified.errors).toBeUndefined();
    const client = await findClient(t.server.service.db, unspecified.data._clientCreate.client_id);
    expect([client?.ratePerSecond, client?.ratePerMinute]).toEqual([20, 100]);
    const free = await gql(CREATE, { name: 'free', scope: 'system/*.read', rate: '0/s,0/min' }, t.adminToken);
    expect(free.errors).toBeUndefined();
  });

  it('keeps the FHIR resolvers and the Resource interface working on the extended schema', async () => {
    const practitioner = await fhirFetch(`${t.url}/fhir/Practitioner`, { method: 'POST', body: { resourceType: 'Practitioner', name: [{ family: 'Osler' }] }, token: t.adminToken });
    const created = await gql(`mutation { PatientCreate(res: { name: [{ family: "Admin" }], generalPractitioner: [{ reference: "Practitioner/${practitioner.body.id}" }] }) { id name { family } } }`, {}, t.adminToken);
    expect(created.errors).toBeUndefined();
    const id = created.data.PatientCreate.id;
    const read = await gql(`{ Patient(_id: "${id}") { name { family } generalPractitioner { resource { ... on Practitioner { name { family } } } } } }`, {}, t.adminToken);
    expect(read.errors).toBeUndefined();
    expect(read.data.Patient).toEqual({ name: [{ family: 'Admin' }], generalPractitioner: [{ resource: { name: [{ family: 'Osler' }] } }] });
  });

  it('extends the schema once and idempotently', () => {
    const extended = withAdminSchema(buildExecutableSchema(t.server.service));
    expect(withAdminSchema(extended)).toBe(extended);
    // Built with assumeValid, so check it once here.
    expect(validateSchema(extended).map((error) => error.message)).toEqual([]);
    expect(extended.getQueryType()?.getFields()._clients).toBeDefined();
    expect(extended.getMutationType()?.getFields()._clientDisable).toBeDefined();
    expect(extended.getType('Patient')).toBeDefined();
  });
});

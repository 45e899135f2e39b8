/**
 * The GraphQL cases of the attack suite (issue 3, "Done when"): scope escalation through a
 * reference and a reverse reference, a mutation outside the token's scopes, no token, and an
 * attempt to alter an AuditEvent. Each is refused (a `null` field with a `FORBIDDEN` error, or
 * 401) without leaking data, and leaves an AuditEvent recording the failure: a GraphQL answer is
 * HTTP 200 even when a field was refused, so the AuditEvent must carry the refusal itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const ids: Record<string, string> = {};

async function gql(query: string, variables: Record<string, unknown>, token: string | null) {
  return fhirFetch(`${t.url}/graphql`, { method: 'POST', body: JSON.stringify({ query, variables }), headers: { 'content-type': 'application/json' }, token });
}

/** A fresh client with `scope`, so its AuditEvents are told apart from every other test's. */
async function clientWith(scope: string): Promise<{ clientId: string; token: string }> {
  const { client_id, refresh_token } = await t.createClient({ name: `graphql attacker ${scope}`, scope });
  return { clientId: client_id, token: await t.tokenFor(refresh_token!) };
}

async function auditTrail(): Promise<any[]> {
  await t.server.security.auditLog.flush();
  const trail = await fhirFetch(`${t.url}/fhir/AuditEvent/_history?_count=1000`, { token: t.adminToken });
  expect(trail.status).toBe(200);
  return (trail.body.entry ?? []).map((e: any) => e.resource);
}

/** Asserts that an AuditEvent of `clientId` records a failure with `status` whose text has `text`. */
async function expectAudited(clientId: string | null, text: string, status: number) {
  const events = await auditTrail();
  const match = events.find((e: any) => e.outcome !== '0' && String(e.outcomeDesc).startsWith(`${status} `) && String(e.outcomeDesc).includes(text)
    && (clientId === null || JSON.stringify(e.agent ?? []).includes(clientId)));
  const mine = clientId === null ? [] : events.filter((e: any) => JSON.stringify(e.agent ?? []).includes(clientId)).map((e: any) => `${e.outcome} ${e.outcomeDesc}`);
  expect(match, `an AuditEvent for "${text}" (${status}); this client's events: ${JSON.stringify(mine)}`).toBeDefined();
  return match;
}

function expectForbidden(body: any) {
  expect(body.errors?.length, JSON.stringify(body)).toBeGreaterThan(0);
  expect(body.errors.map((e: any) => e.extensions?.code)).toContain('FORBIDDEN');
}

async function create(key: string, resource: Record<string, unknown>) {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource, token: t.adminToken });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  ids[key] = res.body.id;
}

beforeAll(async () => {
  t = await startTestServer();
  await create('patient', { resourceType: 'Patient', name: [{ family: 'Secretname' }], birthDate: '1961-02-03' });
  await create('observation', {
    resourceType: 'Observation', status: 'final', code: { text: 'Confidential panel' }, subject: { reference: `Patient/${ids.patient}` },
  });
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('GraphQL attacks', () => {
  it('refuses scope escalation through a reference: null and FORBIDDEN, no patient data', async () => {
    const { clientId, token } = await clientWith('system/Observation.rs');
    const res = await gql('{ ObservationList { id subject { reference resource { ... on Patient { name { family } birthDate } } } } }', {}, token);
    expect(res.status).toBe(200);
    const observation = res.body.data.ObservationList.find((o: any) => o.id === ids.observation);
    expect(observation.subject.resource).toBeNull();
    expectForbidden(res.body);
    expect(res.text).not.toContain('Secretname');
    expect(res.text).not.toContain('1961-02-03');
    await expectAudited(clientId, 'FORBIDDEN', 403);
  });

  it('refuses scope escalation through a reverse reference', async () => {
    const { clientId, token } = await clientWith('system/Patient.rs');
    const res = await gql('{ PatientList { id ObservationList(_reference: subject) { id code { text } } } }', {}, token);
    expectForbidden(res.body);
    expect(res.text).not.toContain('Confidential panel');
    expect(res.text).not.toContain(ids.observation);
    await expectAudited(clientId, 'FORBIDDEN', 403);
  });

  it('refuses a mutation outside the scopes (PatientCreate with a read-only token)', async () => {
    const { clientId, token } = await clientWith('system/Patient.rs');
    const res = await gql('mutation { PatientCreate(res: { name: [{ family: "Intruder" }] }) { id } }', {}, token);
    expectForbidden(res.body);
    expect(res.body.data?.PatientCreate ?? null).toBeNull();
    const search = await fhirFetch(`${t.url}/fhir/Patient?family=Intruder`, { token: t.adminToken });
    expect(search.body.total ?? search.body.entry?.length ?? 0).toBe(0);
    await expectAudited(clientId, 'FORBIDDEN', 403);
  });

  it('refuses GraphQL without a token with 401', async () => {
    const res = await gql('{ PatientList { name { family } } }', {}, null);
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('Secretname');
    await expectAudited(null, 'access token refused: missing', 401);
  });

  it('refuses altering an AuditEvent through AuditEventUpdate, even for an admin', async () => {
    const { client_id, refresh_token } = await t.createClient({ name: 'graphql admin attacker', scope: 'system/*.*', admin: true });
    const token = await t.tokenFor(refresh_token!);
    const target = (await auditTrail()).find((e: any) => e.outcome !== '0');
    expect(target).toBeDefined();
    const { id, meta: _meta, ...rest } = target;
    const res = await gql('mutation($id: ID!, $res: AuditEvent_Input!) { AuditEventUpdate(id: $id, res: $res) { id outcome } }',
      { id, res: { ...rest, outcome: '0', outcomeDesc: '200 nothing happened' } }, token);
    expectForbidden(res.body);
    const after = await fhirFetch(`${t.url}/fhir/AuditEvent/${id}`, { token: t.adminToken });
    expect(after.body.outcomeDesc).toBe(target.outcomeDesc);
    await expectAudited(client_id, 'FORBIDDEN', 403);
  });

  it('refuses deleting an AuditEvent through AuditEventDelete, even for an admin', async () => {
    const { client_id, refresh_token } = await t.createClient({ name: 'graphql admin deleter', scope: 'system/*.*', admin: true });
    const token = await t.tokenFor(refresh_token!);
    const target = (await auditTrail())[0];
    const res = await gql('mutation($id: ID!) { AuditEventDelete(id: $id) { id } }', { id: target.id }, token);
    expectForbidden(res.body);
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent/${target.id}`, { token: t.adminToken })).status).toBe(200);
    await expectAudited(client_id, 'FORBIDDEN', 403);
  });
});

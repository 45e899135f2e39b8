/**
 * The attack suite of the OAuth2 issue: every attack is refused with the right status and leaves
 * an AuditEvent behind. Cases for features that have not landed yet (GraphQL references and
 * reverse references, subscriptions, webhooks) are added by the issues that land them.
 */
import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsForm, generateClientKeys, signAssertion, type SmartClientKeys } from '../helpers/smart-client.ts';
import { findClient } from '../../src/store/oauth-repository.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let tokenEndpoint: string;

beforeAll(async () => {
  t = await startTestServer({ tokenRateLimit: { perSecond: 1000, perMinute: 100_000 } });
  tokenEndpoint = `${t.config.publicUrl}/auth/token`;
});
afterAll(async () => { await t?.close(); });

async function postForm(path: string, form: URLSearchParams) {
  const response = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Asserts that an AuditEvent recording a refusal whose description contains `text` exists. */
async function expectAudited(text: string, status: number) {
  await t.server.security.auditLog.flush();
  const trail = await fhirFetch(`${t.url}/fhir/AuditEvent/_history?_count=1000`, { token: t.adminToken });
  expect(trail.status).toBe(200);
  const events = trail.body.entry.map((e: any) => e.resource);
  const match = events.find((e: any) => e.outcome !== '0' && String(e.outcomeDesc).startsWith(`${status} `) && String(e.outcomeDesc).includes(text));
  expect(match, `an AuditEvent for "${text}" (${status})`).toBeDefined();
  return match;
}

async function smartClient(scope = 'system/*.read', alg = 'ES384'): Promise<{ clientId: string; keys: SmartClientKeys }> {
  const keys = await generateClientKeys(alg);
  const { client_id } = await t.createClient({ name: `smart ${alg}`, scope, jwks: { keys: [keys.publicJwk] } });
  return { clientId: client_id, keys };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function accessClaims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: t.config.publicUrl, aud: t.config.publicUrl, sub: 'attacker', client_id: 'attacker', scope: 'system/*.*', jti: crypto.randomUUID(), iat: now, exp: now + 600, ...overrides };
}

describe('bearer tokens on the API', () => {
  it('refuses a request with no token (401, WWW-Authenticate)', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/x`, { token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(res.body.resourceType).toBe('OperationOutcome');
    await expectAudited('access token refused: missing', 401);
  });

  it('refuses a garbage token', async () => {
    expect((await fhirFetch(`${t.url}/fhir/Patient/x`, { token: 'not-a-jwt' })).status).toBe(401);
    await expectAudited('access token refused: malformed', 401);
  });

  it('refuses Basic authentication', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/x`, { token: null, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expect(res.status).toBe(401);
    await expectAudited('access token refused: malformed', 401);
  });

  it('refuses an expired token signed by the server', async () => {
    const { kid, key } = t.server.security.keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT(accessClaims({ iat: now - 2000, exp: now - 1000 })).setProtectedHeader({ alg: 'ES256', kid }).sign(key);
    expect((await fhirFetch(`${t.url}/fhir/Patient/x`, { token })).status).toBe(401);
    await expectAudited('access token refused: expired', 401);
  });

  it('refuses a token signed by another key under the server key id', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const { kid } = t.server.security.keys.signingKey();
    const token = await new SignJWT(accessClaims()).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
    expect((await fhirFetch(`${t.url}/fhir/Patient/x`, { token })).status).toBe(401);
    await expectAudited('access token refused: bad-signature', 401);
  });

  it('refuses a token with an unknown kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(accessClaims()).setProtectedHeader({ alg: 'ES256', kid: 'unknown-kid' }).sign(privateKey);
    expect((await fhirFetch(`${t.url}/fhir/Patient/x`, { token })).status).toBe(401);
    await expectAudited('access token refused: unknown-key', 401);
  });

  it('refuses alg: none', async () => {
    const { kid } = t.server.security.keys.signingKey();
    const token = `${base64url({ alg: 'none', kid })}.${base64url(accessClaims())}.`;
    expect((await fhirFetch(`${t.url}/fhir/Patient/x`, { token })).status).toBe(401);
    await expectAudited('access token refused: algorithm', 401);
  });

  it('refuses HS256 signed with the server public key as the secret', async () => {
    const jwk = t.server.security.keys.jwks().keys[0];
    const token = await new SignJWT(accessClaims())
      .setProtectedHeader({ alg: 'HS256', kid: jwk.kid })
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    const res = await fhirFetch(`${t.url}/fhir/Patient/x`, { token });
    expect(res.status).toBe(401);
    await expectAudited('access token refused: algorithm', 401);
  });

  it('refuses a server-signed token issued for another audience', async () => {
    const { kid, key } = t.server.security.keys.signingKey();
    const token = await new SignJWT(accessClaims({ aud: 'https://elsewhere.example' })).setProtectedHeader({ alg: 'ES256', kid }).sign(key);
    expect((await fhirFetch(`${t.url}/fhir/Patient/x`, { token })).status).toBe(401);
    await expectAudited('access token refused: claims', 401);
  });
});

describe('client assertions (SMART Backend Services)', () => {
  it('issues a token for a valid RS384 assertion, and the token works', async () => {
    const { clientId, keys } = await smartClient('system/Patient.rs', 'RS384');
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId, tokenEndpoint })));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 900, scope: 'system/Patient.rs' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
    expect((await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}`, { token: res.body.access_token })).status).toBe(200);
  });

  it('refuses an assertion with the wrong aud', async () => {
    const { clientId, keys } = await smartClient();
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId, tokenEndpoint, aud: 'https://evil.example/token' })));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    await expectAudited('ERR_JWT_CLAIM_VALIDATION_FAILED', 401);
  });

  it('refuses an assertion whose exp is more than 5 minutes ahead', async () => {
    const { clientId, keys } = await smartClient();
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId, tokenEndpoint, expiresIn: 3600 })));
    expect(res.status).toBe(401);
    await expectAudited('exp is more than 5 minutes ahead', 401);
  });

  it('refuses a replayed jti', async () => {
    const { clientId, keys } = await smartClient();
    const assertion = await signAssertion(keys, { clientId, tokenEndpoint });
    expect((await postForm('/auth/token', clientCredentialsForm(assertion))).status).toBe(200);
    const replay = await postForm('/auth/token', clientCredentialsForm(assertion));
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_client');
    await expectAudited('jti was already used', 401);
  });

  it('refuses an unknown kid', async () => {
    const { clientId, keys } = await smartClient();
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId, tokenEndpoint, kid: 'no-such-kid' })));
    expect(res.status).toBe(401);
    await expectAudited('no registered key has that kid', 401);
  });

  it('refuses an assertion signed by a key that is not the registered one', async () => {
    const { clientId, keys } = await smartClient();
    const impostor = await generateClientKeys('ES384');
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion({ ...impostor, kid: keys.kid }, { clientId, tokenEndpoint })));
    expect(res.status).toBe(401);
    await expectAudited('ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 401);
  });

  it('refuses an HS256 assertion', async () => {
    const { clientId, keys } = await smartClient();
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: keys.kid }).setIssuer(clientId).setSubject(clientId).setAudience(tokenEndpoint).setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(JSON.stringify(keys.publicJwk)));
    const res = await postForm('/auth/token', clientCredentialsForm(assertion));
    expect(res.status).toBe(401);
    await expectAudited('algorithm must be one of', 401);
  });

  it('refuses an assertion whose iss and sub differ', async () => {
    const { clientId, keys } = await smartClient();
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId, tokenEndpoint, sub: 'someone-else' })));
    expect(res.status).toBe(401);
    await expectAudited('iss and sub must both be the client id', 401);
  });

  it('refuses an assertion for an unknown client', async () => {
    const keys = await generateClientKeys();
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId: 'no-such-client', tokenEndpoint })));
    expect(res.status).toBe(401);
    await expectAudited('unknown client', 401);
  });

  it('refuses an assertion without jti', async () => {
    const { clientId, keys } = await smartClient();
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId, tokenEndpoint, jti: null })));
    expect(res.status).toBe(401);
    await expectAudited('ERR_JWT_CLAIM_VALIDATION_FAILED', 401);
  });

  it('refuses an expired assertion', async () => {
    const { clientId, keys } = await smartClient();
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId, tokenEndpoint, expiresIn: -120 })));
    expect(res.status).toBe(401);
    await expectAudited('ERR_JWT_EXPIRED', 401);
  });

  it('refuses client_credentials for an API-key client without a JWKS', async () => {
    const { client_id } = await t.createClient({ name: 'api key', scope: 'system/*.read' });
    const keys = await generateClientKeys();
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId: client_id, tokenEndpoint })));
    expect(res.status).toBe(401);
    await expectAudited('client has no registered JWKS', 401);
  });

  it('refuses a scope the client is not allowed (invalid_scope)', async () => {
    const { clientId, keys } = await smartClient('system/Patient.read');
    const res = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId, tokenEndpoint }), 'system/Observation.write'));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
    await expectAudited('invalid_scope', 400);
  });

  it('refuses an unsupported grant type', async () => {
    const res = await postForm('/auth/token', new URLSearchParams({ grant_type: 'password', username: 'admin', password: 'admin' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
    await expectAudited('unsupported_grant_type', 400);
  });
});

describe('refresh tokens, revocation and disabled clients', () => {
  it('stops a disabled client at once: its live access token and its refresh token', async () => {
    const { client_id, refresh_token } = await t.createClient({ name: 'to disable', scope: 'system/*.read' });
    const token = await t.tokenFor(refresh_token!);
    expect((await fhirFetch(`${t.url}/fhir/Patient/_history`, { token })).status).toBe(200);
    const disabled = await fhirFetch(`${t.url}/admin/clients/${client_id}/disable`, { method: 'POST', token: t.adminToken });
    expect(disabled.body).toEqual({ client_id, status: 'disabled' });
    const live = await fhirFetch(`${t.url}/fhir/Patient/_history`, { token });
    expect(live.status).toBe(401);
    await expectAudited('access token refused: client-disabled', 401);
    const refresh = await postForm('/auth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh_token! }));
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('invalid_grant');
    await expectAudited('client of this refresh_token is disabled', 400);
  });

  it('refuses a revoked refresh token, while the same token keeps working until then', async () => {
    const { refresh_token } = await t.createClient({ name: 'to revoke', scope: 'system/*.read' });
    await t.tokenFor(refresh_token!);
    await t.tokenFor(refresh_token!); // not rotated: it keeps working
    expect((await postForm('/auth/revoke', new URLSearchParams({ token: refresh_token! }))).status).toBe(200);
    const res = await postForm('/auth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh_token! }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    await expectAudited('refresh_token has been revoked', 400);
  });

  it('refuses a revoked access token', async () => {
    const token = await t.tokenWithScope('system/*.read');
    expect((await fhirFetch(`${t.url}/fhir/Patient/_history`, { token })).status).toBe(200);
    expect((await postForm('/auth/revoke', new URLSearchParams({ token }))).status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/Patient/_history`, { token })).status).toBe(401);
    await expectAudited('access token refused: revoked', 401);
  });

  it('refuses an unknown refresh token', async () => {
    const res = await postForm('/auth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'fgr_guessed' }));
    expect(res.status).toBe(400);
    await expectAudited('refresh_token is not valid', 400);
  });
});

describe('scopes are enforced on every interaction', () => {
  it('refuses a read-only token that creates', async () => {
    const token = await t.tokenWithScope('system/*.read');
    const res = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' }, token });
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
    await expectAudited('does not allow create on Patient', 403);
  });

  it('refuses a Patient token that reads an Observation', async () => {
    const obs = await fhirFetch(`${t.url}/fhir/Observation`, { method: 'POST', body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } });
    const token = await t.tokenWithScope('system/Patient.read');
    expect((await fhirFetch(`${t.url}/fhir/Observation/${obs.body.id}`, { token })).status).toBe(403);
    await expectAudited('does not allow read on Observation', 403);
  });

  it('refuses a read-only token that patches', async () => {
    const p = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
    const token = await t.tokenWithScope('system/Patient.rs');
    const res = await fhirFetch(`${t.url}/fhir/Patient/${p.body.id}`, { method: 'PATCH', token, headers: { 'content-type': 'application/json-patch+json' }, body: [{ op: 'add', path: '/active', value: true }] });
    expect(res.status).toBe(403);
    await expectAudited('does not allow update on Patient', 403);
  });

  it('refuses scope escalation through an entry of a transaction Bundle, writing nothing', async () => {
    const token = await t.tokenWithScope('system/Patient.cruds');
    const before = (await fhirFetch(`${t.url}/fhir/Observation/_history?_count=1000`)).body.entry.length;
    const res = await fhirFetch(`${t.url}/fhir`, {
      method: 'POST', token,
      body: { resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'sneaky' } }, request: { method: 'POST', url: 'Observation' } },
      ] },
    });
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[1]');
    expect((await fhirFetch(`${t.url}/fhir/Observation/_history?_count=1000`)).body.entry.length).toBe(before);
    await expectAudited('Bundle.entry[1]: The access token', 403);
  });

  it('refuses scope escalation through an entry of a batch Bundle, entry by entry', async () => {
    const token = await t.tokenWithScope('system/Patient.cruds');
    const res = await fhirFetch(`${t.url}/fhir`, {
      method: 'POST', token,
      body: { resourceType: 'Bundle', type: 'batch', entry: [
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'sneaky' } }, request: { method: 'POST', url: 'Observation' } },
      ] },
    });
    expect(res.status).toBe(200);
    expect(res.body.entry[0].response.status).toBe('403 Forbidden');
    await expectAudited('does not allow create on Observation', 403);
  });

  it('keeps system history to the types the token may search', async () => {
    await fhirFetch(`${t.url}/fhir/Observation`, { method: 'POST', body: { resourceType: 'Observation', status: 'final', code: { text: 'hidden' } } });
    const token = await t.tokenWithScope('system/Patient.rs');
    const res = await fhirFetch(`${t.url}/fhir/_history?_count=1000`, { token });
    expect(res.status).toBe(200);
    const types = new Set(res.body.entry.map((e: any) => e.request.url.split('/')[0]));
    expect([...types]).toEqual(['Patient']);
  });

  it('refuses scope escalation through _include: a named forbidden target is a 403, an implied one is left out', async () => {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Hidden' }] } });
    await fhirFetch(`${t.url}/fhir/Observation`, { method: 'POST', body: { resourceType: 'Observation', status: 'final', code: { text: 'inc' }, subject: { reference: `Patient/${patient.body.id}` } } });
    const token = await t.tokenWithScope('system/Observation.rs');
    const named = await fhirFetch(`${t.url}/fhir/Observation?subject=Patient/${patient.body.id}&_include=Observation:subject:Patient`, { token });
    expect(named.status).toBe(403);
    await expectAudited('does not allow read on Patient', 403);
    const implied = await fhirFetch(`${t.url}/fhir/Observation?subject=Patient/${patient.body.id}&_include=Observation:subject`, { token });
    expect(implied.status).toBe(200);
    expect(implied.body.entry.some((e: any) => e.resource.resourceType === 'Patient')).toBe(false);
    expect(JSON.stringify(implied.body)).not.toContain('Hidden');
    expect(implied.body.entry.find((e: any) => e.search.mode === 'outcome').resource.issue[0].code).toBe('forbidden');
  });

  it('refuses scope escalation through _revinclude', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    const res = await fhirFetch(`${t.url}/fhir/Patient?_revinclude=Observation:subject`, { token });
    expect(res.status).toBe(403);
    await expectAudited('does not allow search on Observation', 403);
  });

  it('refuses scope escalation through $everything and $document', async () => {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
    const ref = `Patient/${patient.body.id}`;
    const obs = await fhirFetch(`${t.url}/fhir/Observation`, { method: 'POST', body: { resourceType: 'Observation', status: 'final', code: { text: 'secret-everything' }, subject: { reference: ref } } });
    const observationOnly = await t.tokenWithScope('system/Observation.rs');
    expect((await fhirFetch(`${t.url}/fhir/${ref}/$everything`, { token: observationOnly })).status).toBe(403);
    await expectAudited('does not allow read on Patient', 403);
    const patientOnly = await t.tokenWithScope('system/Patient.rs');
    const record = await fhirFetch(`${t.url}/fhir/${ref}/$everything`, { token: patientOnly });
    expect(record.status).toBe(200);
    expect(record.text).not.toContain('secret-everything');
    expect(record.body.entry.find((e: any) => e.search.mode === 'outcome').resource.issue[0].code).toBe('forbidden');
    const composition = await fhirFetch(`${t.url}/fhir/Composition`, { method: 'POST', body: {
      resourceType: 'Composition', status: 'final', type: { text: 'note' }, date: '2024-01-01', title: 'x', author: [{ reference: ref }],
      section: [{ entry: [{ reference: `Observation/${obs.body.id}` }] }],
    } });
    const noObservation = await t.tokenWithScope('system/Composition.rs system/Patient.rs');
    const document = await fhirFetch(`${t.url}/fhir/Composition/${composition.body.id}/$document`, { token: noObservation });
    expect(document.status).toBe(403);
    expect(document.text).not.toContain('secret-everything');
    await expectAudited('The document refers to Observation resources', 403);
  });

  it('refuses scope escalation through a chained search and a reverse chain', async () => {
    const token = await t.tokenWithScope('system/Observation.rs');
    const chained = await fhirFetch(`${t.url}/fhir/Observation?subject:Patient.name=Hidden`, { token });
    expect(chained.status).toBe(403);
    await expectAudited('does not allow search on Patient', 403);
    const patientToken = await t.tokenWithScope('system/Patient.rs');
    const reverse = await fhirFetch(`${t.url}/fhir/Patient?_has:Observation:subject:code:text=inc`, { token: patientToken });
    expect(reverse.status).toBe(403);
  });

  it('refuses searching a type outside the scope, and limits system search to the scope', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    expect((await fhirFetch(`${t.url}/fhir/Observation`, { token })).status).toBe(403);
    const system = await fhirFetch(`${t.url}/fhir?_count=100`, { token });
    expect(system.status).toBe(200);
    expect(new Set(system.body.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.resourceType))).toEqual(new Set(['Patient']));
  });

  it('refuses $validate to a token that may neither create nor update', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    expect((await fhirFetch(`${t.url}/fhir/Patient/$validate`, { method: 'POST', token, body: { resourceType: 'Patient' } })).status).toBe(403);
    await expectAudited('does not allow create on Patient', 403);
  });
});

describe('ownership and the audit trail', () => {
  it('refuses another client changing or deleting a DocumentReference it did not create', async () => {
    const owner = await t.tokenWithScope('system/DocumentReference.cruds');
    const other = await t.tokenWithScope('system/DocumentReference.cruds');
    const doc = { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'aGVsbG8=' } }] };
    const created = await fhirFetch(`${t.url}/fhir/DocumentReference`, { method: 'POST', body: doc, token: owner });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const update = await fhirFetch(`${t.url}/fhir/DocumentReference/${id}`, { method: 'PUT', body: { ...doc, id, status: 'superseded' }, token: other });
    expect(update.status).toBe(403);
    await expectAudited('Only the client that created this DocumentReference', 403);
    expect((await fhirFetch(`${t.url}/fhir/DocumentReference/${id}`, { method: 'DELETE', token: other })).status).toBe(403);
    expect((await fhirFetch(`${t.url}/fhir/DocumentReference/${id}`, { method: 'PUT', body: { ...doc, id, status: 'superseded' }, token: owner })).status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/DocumentReference/${id}`, { token: other })).body.status).toBe('superseded');
  });

  it('refuses another client deleting a Binary it did not create', async () => {
    const owner = await t.tokenWithScope('system/Binary.cruds');
    const other = await t.tokenWithScope('system/Binary.cruds');
    const created = await fhirFetch(`${t.url}/fhir/Binary`, { method: 'POST', body: { resourceType: 'Binary', contentType: 'text/plain', data: 'aGk=' }, token: owner });
    expect((await fhirFetch(`${t.url}/fhir/Binary/${created.body.id}`, { method: 'DELETE', token: other })).status).toBe(403);
    await expectAudited('Only the client that created this Binary', 403);
  });

  it('refuses an attempt to alter an AuditEvent, even by an admin', async () => {
    await t.server.security.auditLog.flush();
    const trail = await fhirFetch(`${t.url}/fhir/AuditEvent/_history?_count=1`, { token: t.adminToken });
    const event = trail.body.entry[0].resource;
    const altered = await fhirFetch(`${t.url}/fhir/AuditEvent/${event.id}`, { method: 'PUT', body: { ...event, outcome: '0' }, token: t.adminToken });
    expect(altered.status).toBe(403);
    await expectAudited('AuditEvents cannot be changed or deleted', 403);
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent/${event.id}`, { method: 'DELETE', token: t.adminToken })).status).toBe(403);
    const patch = await fhirFetch(`${t.url}/fhir/AuditEvent/${event.id}`, { method: 'PATCH', token: t.adminToken, headers: { 'content-type': 'application/json-patch+json' }, body: [{ op: 'remove', path: '/agent' }] });
    expect(patch.status).toBe(403);
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent/${event.id}`, { token: t.adminToken })).body).toEqual(event);
  });

  it('refuses a non-admin reading AuditEvents', async () => {
    const token = await t.tokenWithScope('system/*.*');
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent/_history`, { token })).status).toBe(403);
    await expectAudited('Only admin clients may read or add AuditEvents', 403);
  });

  it('refuses a non-admin managing clients', async () => {
    const token = await t.tokenWithScope('system/*.*');
    expect((await fhirFetch(`${t.url}/admin/clients`, { token })).status).toBe(403);
    await expectAudited('Only admin clients may manage clients', 403);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After and RateLimit headers past a client limit', async () => {
    const token = await t.tokenWithScope('system/*.read', { rate: '3/s,100/min' });
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${t.url}/fhir/Patient/_history?_count=1`, { headers: { authorization: `Bearer ${token}` } });
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
      else expect(res.headers.get('ratelimit-limit')).toBe('3');
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited!.headers.get('ratelimit-remaining')).toBe('0');
    expect(((await limited!.json()) as any).resourceType).toBe('OperationOutcome');
    await expectAudited('Rate limit exceeded', 429);
  });
});

describe('the token endpoint against brute force', () => {
  let small: TestServer;
  beforeAll(async () => { small = await startTestServer({ tokenRateLimit: { perSecond: 3, perMinute: 1000 } }); });
  afterAll(async () => { await small?.close(); });

  it('limits token requests per IP', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a fresh second window after the setup's own token request
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${small.url}/auth/token`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: `fgr_guess${i}` }),
      });
      statuses.push(res.status);
      if (res.status === 429) expect(res.headers.get('retry-after')).toBeTruthy();
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 429).length).toBeLessThanOrEqual(4);
  });
});

describe('hardening (issue 14, item 12)', () => {
  it('records a refusal whose request carried NUL characters, without them, and keeps auditing', async () => {
    const res = await postForm('/auth/token', new URLSearchParams({ grant_type: 'pass\u0000word\u0001' }));
    expect(res.status).toBe(400);
    const event = await expectAudited('grant_type "password" is not supported', 400);
    expect(JSON.stringify(event)).not.toContain('\\u0000');
    // The batch that held it was stored, and later events are too.
    const id = `nul-check-${Date.now()}`;
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}`, { token: await t.tokenWithScope('system/*.read') })).status).toBe(404);
    await expectAudited(id, 404);
  });
});

describe('hardening (issue 14, item 13)', () => {
  it('accepts the Bearer scheme in any case (RFC 9110 §11.1)', async () => {
    const token = await t.tokenWithScope('system/*.read');
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const res = await fhirFetch(`${t.url}/fhir/Patient/_history?_count=1`, { token: null, headers: { authorization: `${scheme} ${token}` } });
      expect(res.status, scheme).toBe(200);
    }
  });

  it('answers instance $validate with 403 before looking at the body or the resource', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
    const id = created.body.id;
    const token = await t.tokenWithScope('system/Patient.rs');
    const probes = [
      fhirFetch(`${t.url}/fhir/Patient/${id}/$validate`, { method: 'POST', token, body: { resourceType: 'Patient', id: 'other' } }),
      fhirFetch(`${t.url}/fhir/Patient/${id}/$validate`, { method: 'POST', token, body: 'not json' }),
      fhirFetch(`${t.url}/fhir/Patient/missing/$validate`, { method: 'POST', token }),
      fhirFetch(`${t.url}/fhir/Patient/${id}/$validate`, { method: 'POST', token }),
      fhirFetch(`${t.url}/fhir/Patient/$validate`, { method: 'POST', token, body: 'not json' }),
    ];
    for (const res of await Promise.all(probes)) {
      expect(res.status).toBe(403);
      expect(res.body.issue[0].code).toBe('forbidden');
    }
  });

  it('refuses an admin creating a client with a scope the admin does not hold (REST)', async () => {
    const narrowAdmin = await t.tokenWithScope('system/Patient.rs', { admin: true, name: 'narrow admin' });
    const escalate = await fhirFetch(`${t.url}/admin/clients`, { method: 'POST', token: narrowAdmin, body: { name: 'escalated', scope: 'system/*.*', admin: true } });
    expect(escalate.status).toBe(403);
    expect(escalate.body.issue[0].diagnostics).toContain('system/*.*');
    const wider = await fhirFetch(`${t.url}/admin/clients`, { method: 'POST', token: narrowAdmin, body: { name: 'wider', scope: 'system/Patient.cruds' } });
    expect(wider.status).toBe(403);
    const within = await fhirFetch(`${t.url}/admin/clients`, { method: 'POST', token: narrowAdmin, body: { name: 'within', scope: 'system/Patient.r system/Patient.read' } });
    expect(within.status).toBe(201);
    await expectAudited('may grant only scopes it holds', 403);
  });

  it('refuses an admin granting a rate limit beyond its own, and caps a new client without one at it (REST; review 1, #9)', async () => {
    const rateLimitedAdmin = await t.tokenWithScope('system/*.*', { admin: true, name: 'rate-limited admin', rate: '20/s,100/min' });
    const create = (body: Record<string, unknown>, token = rateLimitedAdmin) =>
      fhirFetch(`${t.url}/admin/clients`, { method: 'POST', token, body: { name: 'granted', scope: 'system/*.read', ...body } });
    const stored = async (id: string) => {
      const client = await findClient(t.server.service.db, id);
      return { perSecond: client?.ratePerSecond, perMinute: client?.ratePerMinute };
    };
    const unlimited = await create({ rate: '0/s,0/min' });
    expect(unlimited.status).toBe(403);
    expect(unlimited.body.issue[0].diagnostics).toMatch(/rate limits it holds.*unlimited.*20 per second/);
    expect((await create({ rate: '50/s' })).status).toBe(403);
    expect((await create({ rate: '20/s,101/min' })).status).toBe(403);
    const within = await create({ rate: '20/s,100/min' });
    expect(within.status).toBe(201);
    expect(await stored(within.body.client_id)).toEqual({ perSecond: 20, perMinute: 100 });
    // Without a rate of its own the new client would get the server's defaults (here unlimited).
    const unspecified = await create({});
    expect(unspecified.status).toBe(201);
    expect(await stored(unspecified.body.client_id)).toEqual({ perSecond: 20, perMinute: 100 });
    const slower = await create({ rate: '10/s' });
    expect(await stored(slower.body.client_id)).toEqual({ perSecond: 10, perMinute: 100 });
    await expectAudited('may grant only rate limits it holds', 403);
    // An admin without limits grants any, as the CLI does.
    const free = await create({ rate: '0/s,0/min' }, t.adminToken);
    expect(free.status).toBe(201);
    expect(await stored(free.body.client_id)).toEqual({ perSecond: 0, perMinute: 0 });
  });

  it('refuses a client assertion issued in the future', async () => {
    const { clientId, keys } = await smartClient();
    const future = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId, tokenEndpoint, issuedIn: 600, expiresIn: 240 })));
    expect(future.status).toBe(401);
    expect(future.body.error).toBe('invalid_client');
    await expectAudited('iat is in the future', 401);
    const skewed = await postForm('/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId, tokenEndpoint, issuedIn: 10 })));
    expect(skewed.status).toBe(200);
  });
});

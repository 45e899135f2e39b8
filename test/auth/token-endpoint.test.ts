import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../src/auth/signing-keys.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const run = promisify(execFile);
let t: TestServer;
beforeAll(async () => { t = await startTestServer({ tokenRateLimit: { perSecond: 1000, perMinute: 100_000 } }); });
afterAll(async () => { await t?.close(); });

describe('discovery', () => {
  it('publishes the SMART configuration without authentication', async () => {
    const res = await fhirFetch(`${t.url}/fhir/.well-known/smart-configuration`, { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      token_endpoint: `${t.config.publicUrl}/auth/token`,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(['RS384', 'ES384']),
    });
    expect(res.body.scopes_supported).toContain('system/*.read');
  });

  it('publishes the public signing keys, and no private part', async () => {
    const res = await fhirFetch(`${t.url}/auth/jwks`, { token: null });
    expect(res.status).toBe(200);
    expect(res.body.keys.length).toBeGreaterThan(0);
    for (const key of res.body.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
      expect(key.d).toBeUndefined();
    }
  });
});

describe('access tokens', () => {
  it('are ES256 JWTs valid 15 minutes carrying scope, client_id and jti, narrowed to the requested scope', async () => {
    const { client_id, refresh_token } = await t.createClient({ name: 'narrow', scope: 'system/*.read' });
    const res = await fetch(`${t.url}/auth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh_token!, scope: 'system/Patient.read system/Observation.cruds' }),
    });
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 900, scope: 'system/Patient.read system/Observation.rs' });
    const claims = decodeJwt(body.access_token);
    expect(decodeProtectedHeader(body.access_token).alg).toBe('ES256');
    expect(claims).toMatchObject({ client_id, sub: client_id, scope: body.scope });
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(typeof claims.jti).toBe('string');
  });

  it('keep verifying after a key rotation, and new tokens use the new key', async () => {
    const before = await t.tokenWithScope('system/*.read');
    const { kid } = await rotateSigningKey(t.server.service.db);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the NOTIFY reaches this process
    const after = await t.tokenWithScope('system/*.read');
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    expect(decodeProtectedHeader(before).kid).not.toBe(kid);
    expect((await fhirFetch(`${t.url}/fhir/Patient/_history`, { token: before })).status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/Patient/_history`, { token: after })).status).toBe(200);
    const jwks = await fhirFetch(`${t.url}/auth/jwks`, { token: null });
    expect(jwks.body.keys.map((k: any) => k.kid)).toEqual(expect.arrayContaining([kid, decodeProtectedHeader(before).kid]));
  });

  it('answers a token request that is not form-encoded with invalid_request', async () => {
    const res = await fetch(`${t.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toBe('invalid_request');
  });

  it('records an AuditEvent for every token issued', async () => {
    const { client_id, refresh_token } = await t.createClient({ name: 'audited', scope: 'system/*.read' });
    await t.tokenFor(refresh_token!);
    await t.server.security.auditLog.flush();
    const trail = await fhirFetch(`${t.url}/fhir/AuditEvent/_history?_count=200`);
    const event = trail.body.entry.map((e: any) => e.resource).find((e: any) => e.agent[0].who.identifier?.value === client_id);
    expect(event).toMatchObject({ action: 'E', outcome: '0', type: { code: '110114' } });
  });

  it('records an AuditEvent naming the client and the resource for each request', async () => {
    const { client_id, refresh_token } = await t.createClient({ name: 'reader', scope: 'system/*.*' });
    const token = await t.tokenFor(refresh_token!);
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' }, token });
    await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}`, { token });
    await t.server.security.auditLog.flush();
    const trail = await fhirFetch(`${t.url}/fhir/AuditEvent/_history?_count=200`);
    const events = trail.body.entry.map((e: any) => e.resource).filter((e: any) => e.agent[0].who.identifier?.value === client_id && e.type.code === 'rest');
    const actions = events.map((e: any) => `${e.action} ${e.subtype[0].code} ${e.entity?.[0]?.what.reference}`).sort();
    expect(actions).toEqual([`C create Patient/${created.body.id}`, `R read Patient/${created.body.id}`]);
  });
});

describe('operator CLI', () => {
  const env = () => ({ ...process.env, DATABASE_URL: t.databaseUrl });

  it('creates, lists and disables clients, printing one JSON object each', async () => {
    const created = JSON.parse((await run('node', ['bin/fhirgraph.js', 'clients', 'create', '--name', 'lab', '--scope', 'system/Observation.cruds', '--rate', '5/s,100/min'], { env: env() })).stdout);
    expect(Object.keys(created).sort()).toEqual(['client_id', 'refresh_token']);
    const token = await t.tokenFor(created.refresh_token);
    expect(decodeJwt(token).scope).toBe('system/Observation.cruds');
    const listed = JSON.parse((await run('node', ['bin/fhirgraph.js', 'clients', 'list'], { env: env() })).stdout);
    expect(listed.clients).toEqual(expect.arrayContaining([expect.objectContaining({ client_id: created.client_id, name: 'lab', scope: 'system/Observation.cruds', status: 'active' })]));
    const disabled = JSON.parse((await run('node', ['bin/fhirgraph.js', 'clients', 'disable', created.client_id], { env: env() })).stdout);
    expect(disabled).toEqual({ client_id: created.client_id, status: 'disabled' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await fhirFetch(`${t.url}/fhir/Observation/_history`, { token })).status).toBe(401);
  });

  it('registers a JWKS client without a refresh token', async () => {
    const { writeFile } = await import('node:fs/promises');
    const { generateClientKeys } = await import('../helpers/smart-client.ts');
    const keys = await generateClientKeys('RS384');
    const file = `/tmp/fhirgraph-jwks-${process.pid}.json`;
    await writeFile(file, JSON.stringify({ keys: [keys.publicJwk] }));
    const created = JSON.parse((await run('node', ['bin/fhirgraph.js', 'clients', 'create', '--name', 'backend', '--scope', 'system/*.read', '--jwks', file], { env: env() })).stdout);
    expect(Object.keys(created)).toEqual(['client_id']);
  });

  it('fails with a message and a non-zero exit on bad input', async () => {
    await expect(run('node', ['bin/fhirgraph.js', 'clients', 'create', '--name', 'x', '--scope', 'everything'], { env: env() }))
      .rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('scope') });
    await expect(run('node', ['bin/fhirgraph.js', 'clients', 'disable', 'no-such-client'], { env: env() }))
      .rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('not known') });
  });
});

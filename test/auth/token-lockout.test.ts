/**
 * Issue 14, item 6: the token endpoint's per-client limit used to be charged to whatever
 * `client_id` or assertion `iss` a request merely claimed, before anything was verified, so
 * anyone who knew a client id could keep that client locked out (and was audited as that client).
 * Unverified failures are now charged to the source address only, and audited as unverified.
 * The attackers send from 127.0.0.2-4, the real clients from 127.0.0.1 (all loopback).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsForm, generateClientKeys, signAssertion } from '../helpers/smart-client.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  // Five token requests a minute per address and per client: the setup's own admin token is one.
  t = await startTestServer({ tokenRateLimit: { perSecond: 5, perMinute: 5 } });
});
afterAll(async () => { await t?.close(); });

/** POSTs a form to the server from the loopback address `from`. */
function postFormFrom(from: string, path: string, form: URLSearchParams): Promise<{ status: number; body: any; retryAfter?: string }> {
  const target = new URL(`${t.url}${path}`);
  const payload = form.toString();
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: target.hostname, port: target.port, path: target.pathname, method: 'POST', localAddress: from,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, retryAfter: res.headers['retry-after'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('the token endpoint under forged requests', () => {
  it("keeps a client's own token requests working while others send forged ones in its name", async () => {
    const apiKey = await t.createClient({ name: 'victim api key', scope: 'system/*.read' });
    const keys = await generateClientKeys('ES384');
    const smart = await t.createClient({ name: 'victim smart', scope: 'system/*.read', jwks: { keys: [keys.publicJwk] } });
    const impostor = await generateClientKeys('ES384');
    const tokenEndpoint = `${t.config.publicUrl}/auth/token`;

    // Three attacking addresses, six forged requests each, alternating between the two victims.
    const attackers = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    for (const [n, from] of attackers.entries()) {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const guess = await postFormFrom(from, '/auth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: `fgr_guess${i}`, client_id: apiKey.client_id }));
        statuses.push(guess.status);
        const assertion = await signAssertion({ ...impostor, kid: keys.kid }, { clientId: smart.client_id, tokenEndpoint });
        statuses.push((await postFormFrom(from, '/auth/token', clientCredentialsForm(assertion))).status);
      }
      // Each address runs out after its 5 requests a minute (fewer while the limiter, new to the
      // address, still keeps to its first claims); the clients' own limits do not move.
      expect(statuses.filter((status) => status !== 429).length, from).toBeLessThanOrEqual(5);
      expect(statuses.every((status, i) => status === 429 || status === [400, 401][i % 2]), from).toBe(true);
      expect(statuses, from).toContain(429);
    }

    const own = await postFormFrom('127.0.0.1', '/auth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: apiKey.refresh_token!, client_id: apiKey.client_id }));
    expect(own.status).toBe(200);
    const ownSmart = await postFormFrom('127.0.0.1', '/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId: smart.client_id, tokenEndpoint })));
    expect(ownSmart.status).toBe(200);

    // The refusals are on record as unverified requests from the attacker's address, not as the clients.
    await t.server.security.auditLog.flush();
    const trail = await fhirFetch(`${t.url}/fhir/AuditEvent/_history?_count=1000`, { token: t.adminToken });
    const events = trail.body.entry.map((e: any) => e.resource);
    const fromAttacker = events.filter((e: any) => attackers.includes(e.agent[0].network?.address));
    expect(fromAttacker.length).toBeGreaterThan(0);
    for (const event of fromAttacker) {
      expect(event.agent[0].who.identifier).toBeUndefined();
      expect(event.agent[0].who.display).toMatch(/^unverified/);
    }
    const claimed = fromAttacker.map((e: any) => e.agent[0].who.display).join('\n');
    expect(claimed).toContain(apiKey.client_id);
    expect(claimed).toContain(smart.client_id);
    const asVictims = events.filter((e: any) => [apiKey.client_id, smart.client_id].includes(e.agent[0].who.identifier?.value));
    expect(asVictims.map((e: any) => e.outcome)).toEqual(['0', '0']);
  });

  it("limits a client's verified token requests to its own per-client limit", async () => {
    const apiKey = await t.createClient({ name: 'busy', scope: 'system/*.read' });
    const statuses: number[] = [];
    // From several addresses, so that only the per-client limit can refuse.
    for (let i = 0; i < 7; i++) {
      const res = await postFormFrom(`127.0.1.${i + 1}`, '/auth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: apiKey.refresh_token! }));
      statuses.push(res.status);
      // Once the limiter has found itself alone on a key it counts to the limit, not to its claim.
      if (i === 0) await sleep(300);
      if (res.status === 429) {
        expect(res.body.error).toBe('slow_down');
        expect(Number(res.retryAfter)).toBeGreaterThanOrEqual(1);
      }
    }
    expect(statuses[0]).toBe(200);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const granted = statuses.filter((status) => status === 200).length;
    expect(granted).toBeGreaterThanOrEqual(3);
    expect(granted).toBeLessThanOrEqual(5);
  });
});

describe('the token endpoint behind one address (review 1, #8)', () => {
  it("answers a client's own token requests though forged ones in its name come from the same address, and the forger gets 429", async () => {
    const apiKey = await t.createClient({ name: 'same-address api key', scope: 'system/*.read' });
    const keys = await generateClientKeys('ES384');
    const smart = await t.createClient({ name: 'same-address smart', scope: 'system/*.read', jwks: { keys: [keys.publicJwk] } });
    const impostor = await generateClientKeys('ES384');
    const tokenEndpoint = `${t.config.publicUrl}/auth/token`;
    const from = '127.0.0.1'; // attacker and clients alike, as behind one proxy
    // The address's 5 failures are counted per minute: start well inside one.
    if (Date.now() % 60_000 > 55_000) await sleep(60_000 - (Date.now() % 60_000) + 100);

    const forged: number[] = [];
    for (let i = 0; i < 25; i++) {
      const guess = await postFormFrom(from, '/auth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: `fgr_forged${i}`, client_id: apiKey.client_id }));
      forged.push(guess.status);
      const assertion = await signAssertion({ ...impostor, kid: keys.kid }, { clientId: smart.client_id, tokenEndpoint });
      forged.push((await postFormFrom(from, '/auth/token', clientCredentialsForm(assertion))).status);
    }
    // The address may fail 5 times a minute; then its failures are refused.
    expect(forged.filter((status) => status !== 429).length).toBeLessThanOrEqual(5);
    expect(forged.slice(-10)).toEqual(Array(10).fill(429));

    for (let i = 0; i < 3; i++) {
      const own = await postFormFrom(from, '/auth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: apiKey.refresh_token!, client_id: apiKey.client_id }));
      expect(own.status, JSON.stringify(own.body)).toBe(200);
      const ownSmart = await postFormFrom(from, '/auth/token', clientCredentialsForm(await signAssertion(keys, { clientId: smart.client_id, tokenEndpoint })));
      expect(ownSmart.status, JSON.stringify(ownSmart.body)).toBe(200);
      // And the forger, between them, still gets 429.
      const again = await postFormFrom(from, '/auth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: `fgr_again${i}`, client_id: apiKey.client_id }));
      expect(again.status).toBe(429);
      expect(again.body.error).toBe('slow_down');
    }
  });

  it('does not count successful token requests against their address: eight clients behind one address each get a token', async () => {
    const from = '127.0.2.1';
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const client = await t.createClient({ name: `behind proxy ${i}`, scope: 'system/*.read' });
      statuses.push((await postFormFrom(from, '/auth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: client.refresh_token! }))).status);
    }
    expect(statuses).toEqual(Array(8).fill(200));
  });
});

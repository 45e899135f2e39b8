/**
 * Issue 19, the operator console: `GET /console` and its files are served without a token, from
 * the built manifest only (unknown names and traversal attempts are 404s), with a CSP that allows
 * no inline script and no framing; and the admin routes the console needs beyond the existing
 * ones (`PATCH /admin/clients/{id}`, `GET /admin/exports`, `DELETE /admin/exports/{id}`) are
 * admin-only (401 without a token, 403 for other clients) and audited.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
}, 60_000);
afterAll(async () => { await t?.close(); });

/** A raw GET (no token), as a browser loads the page. */
const load = (path: string) => fetch(`${t.url}${path}`);

/** A GET of `path` exactly as written (fetch would resolve `..` before sending it). */
function rawGet(path: string): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${t.url}/`, { path, method: 'GET' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The AuditEvents whose subtype is `code`, once the batched trail has stored them. */
async function auditedAs(code: string, count: number): Promise<any[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = await fhirFetch(`${t.url}/fhir/AuditEvent?subtype=${code}&_count=50`);
    const events = (found.body.entry ?? []).map((e: any) => e.resource);
    if (events.length >= count || Date.now() > deadline) return events;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('GET /console', () => {
  it('serves the page without a token, with the security headers and no inline script', async () => {
    const page = await load('/console');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    // Every script is a file of the console's own; none has a body.
    const scripts = [...html.matchAll(/<script\b[^>]*>([^<]*)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [tag, body] of scripts) {
      expect(body.trim()).toBe('');
      expect(tag).toMatch(/src="\/console\/[\w-]+\.js"/);
    }
    expect(html).not.toMatch(/\son\w+=/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves the bundles it names with their media types, cached for good (their names carry their hash)', async () => {
    const html = await (await load('/console')).text();
    const files = [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]);
    expect(files.some((f) => f.endsWith('.js'))).toBe(true);
    expect(files.some((f) => f.endsWith('.css'))).toBe(true);
    for (const file of files) {
      const asset = await load(file);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toBe(file.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(asset.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
    }
    // The page also answers at /console/ (a trailing slash).
    expect((await load('/console/')).status).toBe(200);
  });

  it('answers 404 for an unknown file and for every traversal attempt, never a file outside the build', async () => {
    for (const path of [
      '/console/nope.js', '/console/index.html', '/console/../package.json', '/console/%2e%2e/package.json', '/console/..%2fpackage.json',
      '/console/%2e%2e%2f%2e%2e%2fpackage.json', '/console/....//package.json', '/console//etc/passwd', '/console/%00', '/console/main.js.map',
    ]) {
      const { status, text, headers } = await rawGet(path);
      expect(status, path).toBe(404);
      if (path.startsWith('/console/') && !path.startsWith('/console/..')) {
        expect(headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
        expect(JSON.parse(text).resourceType, path).toBe('OperationOutcome');
      }
      expect(text, path).not.toContain('"name": "fhirgraph"');
      expect(text, path).not.toContain('root:');
    }
  });

  it('needs no token for the console but still needs one for the API', async () => {
    expect((await load('/console')).status).toBe(200);
    expect((await load('/admin/clients')).status).toBe(401);
    expect((await load('/consoles')).status).toBe(401);
  });
});

describe('PATCH /admin/clients/{id}', () => {
  it('changes a client\'s scope and rate limits for an admin; the next token has the new scope', async () => {
    const { client_id, refresh_token } = await t.createClient({ name: 'to change', scope: 'system/*.read' });
    const changed = await fhirFetch(`${t.url}/admin/clients/${client_id}`, {
      method: 'PATCH', headers: { 'content-type': 'application/json' }, body: { scope: 'system/Patient.rs', rate: '7/s,99/min' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ client_id, scope: 'system/Patient.rs', rate: { per_second: 7, per_minute: 99 }, status: 'active' });
    const listed = (await fhirFetch(`${t.url}/admin/clients`)).body.clients.find((c: any) => c.client_id === client_id);
    expect(listed).toMatchObject({ scope: 'system/Patient.rs', rate: { per_second: 7, per_minute: 99 } });
    const token = await t.tokenFor(refresh_token!);
    expect((await fhirFetch(`${t.url}/fhir/Patient?_count=1`, { token })).status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/Observation?_count=1`, { token })).status).toBe(403);
    // Rate limits apply to the client's next request.
    const limited = await fetch(`${t.url}/fhir/Patient?_count=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(limited.headers.get('ratelimit-limit')).toContain('7');
    // An empty rate returns to the server's defaults.
    const reset = await fhirFetch(`${t.url}/admin/clients/${client_id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: { rate: '' } });
    expect(reset.body.rate).toEqual({ per_second: null, per_minute: null });
    expect((await auditedAs('client-admin', 2)).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses bad input with 400, an unknown client with 404, a scope the admin does not hold with 403', async () => {
    const { client_id } = await t.createClient({ name: 'target', scope: 'system/*.read' });
    const patch = (id: string, body: unknown, token?: string) =>
      fhirFetch(`${t.url}/admin/clients/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body, token });
    expect((await patch(client_id, {})).status).toBe(400);
    expect((await patch(client_id, { scope: 'patient/*.read; DROP' })).status).toBe(400);
    expect((await patch(client_id, { rate: 'fast' })).status).toBe(400);
    expect((await patch(client_id, { rate: 5 })).status).toBe(400);
    expect((await patch(client_id, '[1]')).status).toBe(400);
    expect((await patch('00000000-0000-0000-0000-000000000000', { scope: 'system/*.read' })).status).toBe(404);
    const narrowAdmin = await t.tokenWithScope('system/Patient.rs', { admin: true, name: 'narrow admin' });
    const escalate = await patch(client_id, { scope: 'system/*.*' }, narrowAdmin);
    expect(escalate.status).toBe(403);
    expect(escalate.body.resourceType).toBe('OperationOutcome');
  });

  it('is admin-only: 401 without a token, 403 for a client that is not an admin', async () => {
    const { client_id } = await t.createClient({ name: 'target 2', scope: 'system/*.read' });
    const body = { scope: 'system/*.*' };
    expect((await fhirFetch(`${t.url}/admin/clients/${client_id}`, { method: 'PATCH', body, token: null })).status).toBe(401);
    const plain = await t.tokenWithScope('system/*.*');
    const refused = await fhirFetch(`${t.url}/admin/clients/${client_id}`, { method: 'PATCH', body, token: plain });
    expect(refused.status).toBe(403);
    expect(refused.body.issue[0].diagnostics).toContain('Only admin clients');
  });
});

describe('GET /admin/exports, DELETE /admin/exports/{id}', () => {
  it('lists every client\'s exports with their progress for an admin, and lets it cancel any of them', async () => {
    const exporter = await t.tokenWithScope('system/*.read', { name: 'exporter' });
    const kickOff = await fetch(`${t.url}/fhir/$export?_type=Patient`, {
      headers: { authorization: `Bearer ${exporter}`, prefer: 'respond-async', accept: 'application/fhir+json' },
    });
    expect(kickOff.status).toBe(202);
    const statusUrl = kickOff.headers.get('content-location')!;
    const id = statusUrl.split('/').pop()!;
    const listed = await fhirFetch(`${t.url}/admin/exports`);
    expect(listed.status).toBe(200);
    const job = listed.body.exports.find((e: any) => e.id === id);
    expect(job).toMatchObject({ id, status: expect.stringMatching(/accepted|in-progress|completed/), types: ['Patient'] });
    expect(job.progress).toMatch(/resources exported/);
    expect(job.request).toContain('$export');

    const cancelled = await fhirFetch(`${t.url}/admin/exports/${id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(202);
    expect((await fhirFetch(statusUrl, { token: exporter })).status).toBe(404);
    expect((await fhirFetch(`${t.url}/admin/exports`)).body.exports.some((e: any) => e.id === id)).toBe(false);
    expect((await fhirFetch(`${t.url}/admin/exports/${id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fhirFetch(`${t.url}/admin/exports/not-a-uuid`, { method: 'DELETE' })).status).toBe(404);
    expect((await auditedAs('export-admin', 3)).map((e) => e.action).sort()).toEqual(expect.arrayContaining(['D', 'R']));
  });

  it('is admin-only: 401 without a token, 403 for a client that is not an admin', async () => {
    expect((await fhirFetch(`${t.url}/admin/exports`, { token: null })).status).toBe(401);
    const plain = await t.tokenWithScope('system/*.*');
    expect((await fhirFetch(`${t.url}/admin/exports`, { token: plain })).status).toBe(403);
    expect((await fhirFetch(`${t.url}/admin/exports/00000000-0000-0000-0000-000000000000`, { method: 'DELETE', token: plain })).status).toBe(403);
  });
});

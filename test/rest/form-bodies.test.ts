/**
 * Issue 14, second review, item 1: `application/x-www-form-urlencoded` bodies (`POST
 * /fhir/{type}/_search`, `/auth/token`, `/auth/revoke`) were read and decoded up to MAX_BODY
 * (32 MiB). They are capped at `MAX_FORM_BODY` (413: an OperationOutcome on /fhir, an OAuth
 * `invalid_request` on /auth), and a form search meets `SEARCH_MAX_PARAMS` exactly as a query
 * string does, counted in the text before it is decoded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { countQueryPairs } from '../../src/search/search-query-text.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const { maxParams } = DEFAULT_LIMITS.search;

function post(path: string, body: string, headers: Record<string, string> = FORM) {
  return fhirFetch(`${t.url}${path}`, { method: 'POST', body, headers });
}

describe('form bodies', () => {
  it('refuses a form search body over MAX_FORM_BODY with 413 and an OperationOutcome', async () => {
    const body = `name=${'x'.repeat(t.config.maxFormBodyBytes)}`;
    const res = await post('/fhir/Patient/_search', body);
    expect(res.status).toBe(413);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.text).not.toContain('xxxxxxxx');
  });

  it('still answers a form search body within MAX_FORM_BODY', async () => {
    const res = await post('/fhir/Patient/_search', `name=${'x'.repeat(t.config.maxFormBodyBytes - 100)}`);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('Bundle');
  });

  it.each(['/auth/token', '/auth/revoke'])('refuses a form body over MAX_FORM_BODY at %s with 413 and an OAuth invalid_request', async (path) => {
    const res = await post(path, `grant_type=refresh_token&refresh_token=${'x'.repeat(t.config.maxFormBodyBytes)}`);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toContain('MAX_FORM_BODY');
  });

  it('refuses a JSON body over MAX_FORM_BODY at /auth/token as an OAuth invalid_request too', async () => {
    const res = await post('/auth/token', JSON.stringify({ grant_type: 'x'.repeat(t.config.maxFormBodyBytes) }), { 'content-type': 'application/json' });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('invalid_request');
  });

  it('counts a form search\'s parameters like the query string\'s: over SEARCH_MAX_PARAMS, 400 too-costly with the same message', async () => {
    const pairs = Array.from({ length: maxParams + 1 }, (_, i) => `name=a${i}`).join('&');
    const viaQuery = await fhirFetch(`${t.url}/fhir/Patient?${pairs}`);
    const viaForm = await post('/fhir/Patient/_search', pairs);
    const split = await post(`/fhir/Patient/_search?${pairs.slice(0, pairs.indexOf('&name=a50'))}`, pairs.slice(pairs.indexOf('&name=a50') + 1));
    for (const res of [viaQuery, viaForm, split]) {
      expect(res.status).toBe(400);
      expect(res.body.issue[0].code).toBe('too-costly');
      expect(res.body.issue[0].diagnostics).toBe(viaQuery.body.issue[0].diagnostics);
    }
  });

  it('refuses a form body of 30,000 empty-valued parameters with 400 before decoding them', async () => {
    const res = await post('/fhir/Patient/_search', 'a&'.repeat(30_000));
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toContain('30000 parameters');
  });
});

describe('countQueryPairs', () => {
  it.each(['', 'a', 'a=1&b=2', '&&a=1&&', '=&=', 'a&b&', 'x=1%262&y'])('counts %j as URLSearchParams does', (text) => {
    expect(countQueryPairs(text)).toBe([...new URLSearchParams(text)].length);
  });
});

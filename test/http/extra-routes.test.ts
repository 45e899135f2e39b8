/**
 * Routes that bench or test code mounts through `startServer`'s `extraRoutes` (the raw-SQL
 * baseline lives in `bench/`, not in the product): they answer under their prefix without a
 * token, nothing else loses its authentication, and a prefix that could shadow the API is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtraRoutes } from '../../src/http/extra-routes.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';
import { createTestDatabase } from '../helpers/test-database.ts';

const probe: ExtraRoutes = {
  prefix: '/_probe',
  register(app, { fhirBaseUrl }) {
    app.get('/ping', async () => ({ pong: true, fhirBaseUrl }));
  },
};

let t: TestServer;
beforeAll(async () => { t = await startTestServer({}, undefined, undefined, [probe]); }, 60_000);
afterAll(async () => { await t?.close(); });

describe('extra routes', () => {
  it('answers a mounted route under its prefix without a token', async () => {
    const res = await fhirFetch(`${t.url}/_probe/ping`, { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ pong: true, fhirBaseUrl: t.fhirBase });
  });

  it('keeps every other path behind authentication, a look-alike of the prefix included', async () => {
    for (const path of ['/_probe', '/_probeX/ping', '/fhir/Patient', '/_bench/raw/Patient/1']) {
      expect((await fhirFetch(`${t.url}${path}`, { token: null })).status, path).toBe(401);
    }
  });

  it('refuses at start a prefix that is not a /_name path', async () => {
    const db = await createTestDatabase();
    try {
      for (const prefix of ['/fhir', '/_x/', '_x', '/']) {
        await expect(startTestServer({}, db, undefined, [{ ...probe, prefix }]), prefix).rejects.toThrow(/prefix like/);
      }
    } finally {
      await db.drop();
    }
  });
});

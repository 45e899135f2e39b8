import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { fhirFetch, startTestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase(); });
afterAll(async () => { await db?.drop(); });

describe('server lifecycle', () => {
  it('keeps a Patient, its versions and its deletion across a restart', async () => {
    const first = await startTestServer({}, db);
    const created = await fhirFetch(`${first.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Durable' }] } });
    const id = created.body.id;
    await fhirFetch(`${first.url}/fhir/Patient/${id}`, { method: 'PUT', body: { resourceType: 'Patient', id, name: [{ family: 'Durable' }], active: true } });
    const gone = await fhirFetch(`${first.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
    await fhirFetch(`${first.url}/fhir/Patient/${gone.body.id}`, { method: 'DELETE' });
    await first.close();

    const second = await startTestServer({}, db);
    try {
      const read = await fhirFetch(`${second.url}/fhir/Patient/${id}`);
      expect(read.status).toBe(200);
      expect(read.body.active).toBe(true);
      expect(read.headers.get('etag')).toBe('W/"2"');
      expect((await fhirFetch(`${second.url}/fhir/Patient/${id}/_history`)).body.total).toBe(2);
      expect((await fhirFetch(`${second.url}/fhir/Patient/${gone.body.id}`)).status).toBe(410);
    } finally {
      await second.close();
    }
  });

  it('answers /healthz with {"status":"ok"}', async () => {
    const server = await startTestServer({}, db);
    try {
      const res = await fhirFetch(`${server.url}/healthz`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    } finally {
      await server.close();
    }
  });
});

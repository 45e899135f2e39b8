/**
 * Issue 15 (REST): AuditEvents never enter `change_event`, the outbox the change feed and webhooks
 * read (DECISIONS.md §3: a webhook attempt must not trigger another webhook), whoever writes them.
 * The server's own events were kept out; an admin's POST of an AuditEvent went in.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let db: pg.Client;
beforeAll(async () => {
  t = await startTestServer();
  db = new pg.Client({ connectionString: t.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await t?.close();
});

const auditEvent = {
  resourceType: 'AuditEvent', type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110100' }, recorded: '2024-01-01T00:00:00Z',
  agent: [{ requestor: true, who: { display: 'importer' } }], source: { observer: { display: 'importer' } },
};

async function outboxTypes(): Promise<string[]> {
  return (await db.query<{ resource_type: string }>('SELECT DISTINCT resource_type FROM change_event ORDER BY 1')).rows.map((r) => r.resource_type);
}

describe('AuditEvents and the change outbox', () => {
  it('keeps AuditEvents an admin posts, alone or in a Bundle, out of change_event', async () => {
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent`, { method: 'POST', body: auditEvent })).status).toBe(201);
    for (const type of ['transaction', 'batch']) {
      const bundle = { resourceType: 'Bundle', type, entry: [{ resource: auditEvent, request: { method: 'POST', url: 'AuditEvent' } }] };
      const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle });
      expect(res.status).toBe(200);
      expect(res.body.entry[0].response.status).toBe('201 Created');
    }
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent?_count=0`)).body.total).toBeGreaterThanOrEqual(3);
    expect(await outboxTypes()).not.toContain('AuditEvent');
  });

  it('still publishes other writes', async () => {
    expect((await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } })).status).toBe(201);
    expect(await outboxTypes()).toContain('Patient');
  });
});

/**
 * Issue 17's done-when for `$export` with a third-party client: 100,000 resources exported and
 * read back through `@medplum/core` 4 — `MedplumClient.bulkExport` kicks off (POST with
 * `Prefer: respond-async`), polls the status URL to the manifest, and `download` fetches each
 * output file with the access token — counting exactly, each resource once.
 */
import { MedplumClient } from '@medplum/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { seedResourceRows } from '../helpers/seed-resource-rows.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const OBSERVATIONS = 90_000;
const PATIENTS = 10_000;

let db: TestDatabase;
let t: TestServer;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedResourceRows(db.databaseUrl, { observations: OBSERVATIONS, patients: PATIENTS });
  t = await startTestServer({}, db);
}, 120_000);

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('100,000 resources through @medplum/core', () => {
  it('MedplumClient.bulkExport and download read every resource back, counting exactly', async () => {
    const medplum = new MedplumClient({ baseUrl: `${t.url}/`, fhirUrlPath: 'fhir' });
    medplum.setAccessToken(await t.tokenWithScope('system/*.read'));
    const manifest = await medplum.bulkExport('', 'Patient,Observation', undefined, { pollStatusOnAccepted: true, pollStatusPeriod: 200 });
    expect(manifest.requiresAccessToken).toBe(true);
    expect(manifest.error).toEqual([]);
    const counted = new Map<string, number>();
    const seen = new Set<string>();
    for (const file of manifest.output!) {
      const text = await (await medplum.download(file.url!)).text();
      const lines = text.split('\n').filter((line) => line !== '');
      expect(lines.length).toBe(file.count);
      for (const line of lines) {
        const resource = JSON.parse(line) as { resourceType: string; id: string };
        expect(resource.resourceType).toBe(file.type);
        seen.add(`${resource.resourceType}/${resource.id}`);
      }
      counted.set(file.type!, (counted.get(file.type!) ?? 0) + lines.length);
    }
    expect(Object.fromEntries(counted)).toEqual({ Patient: PATIENTS, Observation: OBSERVATIONS });
    expect(seen.size).toBe(PATIENTS + OBSERVATIONS);
  }, 120_000);
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const run = promisify(execFile);
let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

describe('npx fhirgraph reindex', () => {
  it('rebuilds a lost search index so searches find the resources again', async () => {
    for (const family of ['Reindexa', 'Reindexb']) {
      await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family }] } });
    }
    await t.server.service.db.query(`DELETE FROM search_string WHERE resource_type = 'Patient'`);
    expect((await fhirFetch(`${t.url}/fhir/Patient?name=reindex`)).body.entry).toHaveLength(0);
    const { stdout, stderr } = await run('node', ['bin/fhirgraph.js', 'reindex', '--type', 'Patient'], { env: { ...process.env, DATABASE_URL: t.databaseUrl } });
    expect(JSON.parse(stdout).reindexed).toBeGreaterThanOrEqual(2);
    expect(stderr).toContain('resources');
    expect((await fhirFetch(`${t.url}/fhir/Patient?name=reindex`)).body.entry).toHaveLength(2);
  });

  it('refuses an unknown type', async () => {
    await expect(run('node', ['bin/fhirgraph.js', 'reindex', '--type', 'Unicorn'], { env: { ...process.env, DATABASE_URL: t.databaseUrl } }))
      .rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('unknown resource type') });
  });
});

/**
 * Bulk Data `$export` (issue 17) against a real server and PostgreSQL, as a Bulk Data client sees
 * it: kick-off (GET and POST, system, Patient and Group level), status, manifest, NDJSON files in
 * several chunks and files, `DELETE`; `_type`, `_since`, `_typeFilter` and `_outputFormat`, and
 * 400 for bad values; scopes (403, types left out and reported); only the kicking-off client sees
 * the export; the snapshot at `transactionTime`; the per-client cap; a second server process on
 * the same database serving status and files; retention.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';
import { awaitManifest, download, downloadAll, kickOff, startExport } from './export-helpers.ts';

let db: TestDatabase;
let t: TestServer;
let token: string;
const patients: string[] = [];
const observations = new Map<string, { status: string; subject: string }>();
let groupId: string;
let practitionerId: string;
let seededAt: string;

const EXPORT = { retentionMs: 3_600_000, maxPerClient: 2, concurrency: 2, fileResources: 20, chunkResources: 7, chunkBytes: 4 * 1024 * 1024 };

async function transaction(entries: Record<string, unknown>[]): Promise<string[]> {
  const result = await fhirFetch(`${t.url}/fhir`, {
    method: 'POST',
    body: { resourceType: 'Bundle', type: 'transaction', entry: entries.map((resource) => ({ resource, request: { method: 'POST', url: resource.resourceType } })) },
  });
  expect(result.status, result.text).toBe(200);
  return result.body.entry.map((e: { response: { location: string } }) => e.response.location.split('/')[1]);
}

const ids = (lines: Record<string, any>[] | undefined) => new Set((lines ?? []).map((l) => l.id as string));

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ export: EXPORT }, db);
  token = t.adminToken;
  patients.push(...await transaction(Array.from({ length: 30 }, (_, i) => ({ resourceType: 'Patient', name: [{ family: `Export${i}` }] }))));
  const obs = Array.from({ length: 50 }, (_, i) => ({
    resourceType: 'Observation', status: i % 5 === 0 ? 'preliminary' : 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${patients[i % 30]}` },
  }));
  (await transaction(obs)).forEach((id, i) => observations.set(id, { status: obs[i].status, subject: patients[i % 30] }));
  [practitionerId] = await transaction([{ resourceType: 'Practitioner', name: [{ family: 'Doc' }] }]);
  [groupId] = await transaction([{
    resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${patients[0]}` } }, { entity: { reference: `${t.fhirBase}/Patient/${patients[1]}` } }],
  }]);
  seededAt = new Date().toISOString();
}, 120_000);

afterAll(async () => {
  await t?.close();
  await db?.drop();
});

describe('kick-off, status, manifest and files', () => {
  it('exports the named types in chunks and files of at most EXPORT_FILE_RESOURCES, with an exact manifest', async () => {
    const status = await startExport(`${t.url}/fhir/$export?_type=Patient,Observation&_outputFormat=application/fhir%2Bndjson`, token);
    expect(status).toMatch(/\/bulk\/[0-9a-f-]{36}$/);
    const manifest = await awaitManifest(status, token);
    expect(manifest.requiresAccessToken).toBe(true);
    expect(manifest.request).toBe(`${t.config.publicUrl}/fhir/$export?_type=Patient,Observation&_outputFormat=application/fhir%2Bndjson`);
    expect(Date.parse(manifest.transactionTime)).toBeGreaterThan(Date.parse(seededAt) - 1);
    expect(manifest.error).toEqual([]);
    // 30 Patients in files of 20 and 10, 50 Observations in 20, 20, 10.
    expect(manifest.output.map((f) => [f.type, f.count])).toEqual([['Patient', 20], ['Patient', 10], ['Observation', 20], ['Observation', 20], ['Observation', 10]]);
    const byType = await downloadAll(manifest, token);
    expect(ids(byType.get('Patient'))).toEqual(new Set(patients));
    expect(ids(byType.get('Observation'))).toEqual(new Set(observations.keys()));
    expect(byType.get('Patient')!.length).toBe(30); // no line twice
  });

  it('audits the kick-off, the status requests and each download, naming the export', async () => {
    const status = await startExport(`${t.url}/fhir/$export?_type=Practitioner`, token);
    const id = status.split('/').pop()!;
    const manifest = await awaitManifest(status, token);
    await download(manifest.output[0].url, token);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const events = (await fhirFetch(`${t.url}/fhir/AuditEvent?_count=200&_sort=-_lastUpdated`)).body.entry ?? [];
      const descriptions = events.map((e: { resource: { outcomeDesc?: string; action: string } }) => `${e.resource.action} ${e.resource.outcomeDesc ?? ''}`);
      const ours = descriptions.filter((d: string) => d.includes(id));
      if (ours.some((d: string) => d.includes('downloaded'))) {
        expect(ours).toEqual(expect.arrayContaining([
          `E 202 Bulk Data export ${id} kicked off (resource types: 1)`,
          `R 200 Bulk Data export ${id}: manifest`,
          `R 200 Bulk Data export ${id}: file 1 downloaded (1 Practitioner)`,
        ]));
        break;
      }
      if (Date.now() > deadline) throw new Error(`no download AuditEvent for export ${id}: ${ours.join('; ')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('takes a POST with a Parameters body and every NDJSON _outputFormat name', async () => {
    for (const format of ['application/ndjson', 'ndjson']) {
      const status = await startExport(`${t.url}/fhir/$export`, token, {
        method: 'POST',
        body: { resourceType: 'Parameters', parameter: [{ name: '_type', valueString: 'Practitioner' }, { name: '_outputFormat', valueString: format }] },
      });
      const manifest = await awaitManifest(status, token);
      expect(manifest.output.map((f) => [f.type, f.count])).toEqual([['Practitioner', 1]]);
      expect((await download(manifest.output[0].url, token))[0].id).toBe(practitionerId);
    }
  });

  it('exports what changed after _since only, and what _typeFilter selects only', async () => {
    const changed = patients[5];
    const read = await fhirFetch(`${t.url}/fhir/Patient/${changed}`);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${changed}`, { method: 'PUT', body: { ...read.body, active: true } })).status).toBe(200);
    const since = await awaitManifest(await startExport(`${t.url}/fhir/$export?_type=Patient,Observation&_since=${encodeURIComponent(seededAt)}`, token), token);
    const sinceLines = await downloadAll(since, token);
    expect(ids(sinceLines.get('Patient'))).toEqual(new Set([changed]));
    expect(sinceLines.get('Observation')).toBeUndefined();

    const filter = encodeURIComponent('Observation?status=final');
    const filtered = await downloadAll(await awaitManifest(await startExport(`${t.url}/fhir/$export?_type=Observation&_typeFilter=${filter}`, token), token), token);
    const finals = [...observations].filter(([, o]) => o.status === 'final').map(([id]) => id);
    expect(ids(filtered.get('Observation'))).toEqual(new Set(finals));

    // Two filters on a type: either matches.
    const either = `_typeFilter=${filter}&_typeFilter=${encodeURIComponent('Observation?status=preliminary')}`;
    const both = await downloadAll(await awaitManifest(await startExport(`${t.url}/fhir/$export?_type=Observation&${either}`, token), token), token);
    expect(both.get('Observation')!.length).toBe(50);
  });

  it('exports the Patient compartment at Patient level, and the members\' compartments at Group level', async () => {
    const all = await downloadAll(await awaitManifest(await startExport(`${t.url}/fhir/Patient/$export?_type=Patient,Observation`, token), token), token);
    expect(all.get('Patient')!.length).toBe(30);
    expect(all.get('Observation')!.length).toBe(50);

    const group = await downloadAll(await awaitManifest(await startExport(`${t.url}/fhir/Group/${groupId}/$export`, token), token), token);
    expect(ids(group.get('Patient'))).toEqual(new Set([patients[0], patients[1]]));
    const theirs = [...observations].filter(([, o]) => o.subject === patients[0] || o.subject === patients[1]).map(([id]) => id);
    expect(ids(group.get('Observation'))).toEqual(new Set(theirs));
    expect(group.has('Practitioner')).toBe(false);
    expect(ids(group.get('Group'))).toEqual(new Set([groupId]));
  });

  it('keeps to the snapshot at transactionTime: a change committed after kick-off is not in the output', async () => {
    const [updated, deleted] = [patients[10], patients[11]];
    await t.server.exports.worker.stop(); // the export is queued, not yet run
    try {
      const status = await startExport(`${t.url}/fhir/$export?_type=Patient`, token);
      const before = (await fhirFetch(`${t.url}/fhir/Patient/${updated}`)).body;
      expect((await fhirFetch(`${t.url}/fhir/Patient/${updated}`, { method: 'PUT', body: { ...before, gender: 'female' } })).status).toBe(200);
      expect((await fhirFetch(`${t.url}/fhir/Patient/${deleted}`, { method: 'DELETE' })).status).toBe(200);
      const [created] = await transaction([{ resourceType: 'Patient', name: [{ family: 'Late' }] }]);
      t.server.exports.worker.start();
      const lines = (await downloadAll(await awaitManifest(status, token), token)).get('Patient')!;
      expect(ids(lines)).toEqual(new Set(patients));
      const asOfKickoff = lines.find((l) => l.id === updated)!;
      expect(asOfKickoff.gender).toBeUndefined();
      expect(asOfKickoff.meta.versionId).toBe(before.meta.versionId);
      expect(ids(lines).has(created)).toBe(false);
    } finally {
      t.server.exports.worker.start();
    }
  });

  it('exports a Binary with its bytes as data, the version current at transactionTime', async () => {
    const bytes = randomBytes(300 * 1024 + 7); // several stored chunks, and a length not a multiple of 3
    const upload = await fetch(`${t.url}/fhir/Binary`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' }, body: bytes });
    expect(upload.status).toBe(201);
    const id = upload.headers.get('location')!.split('/Binary/')[1].split('/')[0];
    const empty = await fetch(`${t.url}/fhir/Binary`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: Buffer.alloc(0) });
    expect(empty.status).toBe(201);
    const emptyId = empty.headers.get('location')!.split('/Binary/')[1].split('/')[0];
    await t.server.exports.worker.stop();
    try {
      const status = await startExport(`${t.url}/fhir/$export?_type=Binary`, token);
      // Replaced after kick-off: the export still carries the first bytes.
      const replaced = await fetch(`${t.url}/fhir/Binary/${id}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' }, body: Buffer.from('later') });
      expect(replaced.status).toBe(200);
      t.server.exports.worker.start();
      const lines = (await downloadAll(await awaitManifest(status, token), token)).get('Binary')!;
      const exported = lines.find((l) => l.id === id)!;
      expect(exported).toMatchObject({ resourceType: 'Binary', contentType: 'application/pdf', meta: { versionId: '1' } });
      expect(Buffer.from(exported.data, 'base64').equals(bytes)).toBe(true);
      const blank = lines.find((l) => l.id === emptyId)!;
      expect(blank.contentType).toBe('text/plain');
      expect(blank.data).toBeUndefined();
    } finally {
      t.server.exports.worker.start();
    }
  });
});

describe('refusals', () => {
  it('answers 400 without Prefer: respond-async, and for bad parameters', async () => {
    const base = `${t.url}/fhir/$export`;
    const refused = async (url: string, prefer?: string | null) => {
      const response = await kickOff(url, token, { prefer });
      const body = await response.json() as { resourceType: string; issue: { diagnostics: string }[] };
      expect(response.status).toBe(400);
      expect(body.resourceType).toBe('OperationOutcome');
      return body.issue[0].diagnostics;
    };
    expect(await refused(base, null)).toContain('respond-async');
    expect(await refused(`${base}?_outputFormat=application/fhir%2Bjson`)).toContain('_outputFormat');
    expect(await refused(`${base}?_type=Nonsense`)).toContain('Nonsense');
    expect(await refused(`${base}?_since=yesterday`)).toContain('_since');
    expect(await refused(`${base}?_elements=id`)).toContain('_elements');
    expect(await refused(`${base}?_typeFilter=status%3Dfinal`)).toContain('Type?search');
    expect(await refused(`${base}?_type=Patient&_typeFilter=${encodeURIComponent('Observation?status=final')}`)).toContain('not among the exported types');
    expect(await refused(`${base}?_typeFilter=${encodeURIComponent('Observation?nonsense=1')}`)).toContain('nonsense');
    expect(await refused(`${base}?_typeFilter=${encodeURIComponent('Observation?_count=5')}`)).toContain('_count');
    expect(await refused(`${t.url}/fhir/Patient/$export?_type=Practitioner`)).toContain('Patient compartment');
  });

  it('answers 403 for a _type the token may not read, and leaves unreadable types out (reported) without _type', async () => {
    const patientsOnly = await t.tokenWithScope('system/Patient.read');
    expect((await kickOff(`${t.url}/fhir/$export?_type=Observation`, patientsOnly)).status).toBe(403);
    expect((await kickOff(`${t.url}/fhir/$export?_type=Patient&_typeFilter=${encodeURIComponent('Patient?general-practitioner.name=Doc')}`, patientsOnly)).status).toBe(403);
    const manifest = await awaitManifest(await startExport(`${t.url}/fhir/$export`, patientsOnly), patientsOnly);
    expect(manifest.output.every((f) => f.type === 'Patient')).toBe(true);
    expect(manifest.output.reduce((n, f) => n + f.count, 0)).toBe(30);
    expect(manifest.error).toHaveLength(1);
    const [problem] = await download(manifest.error[0].url, patientsOnly);
    expect(problem.resourceType).toBe('OperationOutcome');
    expect(problem.issue[0].diagnostics).toContain('Observation');
    expect((await kickOff(`${t.url}/fhir/Group/${groupId}/$export`, patientsOnly)).status).toBe(403);
    const noGroup = await kickOff(`${t.url}/fhir/Group/nope/$export`, token);
    expect(noGroup.status).toBe(404);
  });

  it('shows an export only to the client that started it (404 for status, files and DELETE)', async () => {
    const status = await startExport(`${t.url}/fhir/$export?_type=Practitioner`, token);
    const manifest = await awaitManifest(status, token);
    const other = await t.tokenWithScope('system/*.read');
    for (const [url, method] of [[status, 'GET'], [manifest.output[0].url, 'GET'], [status, 'DELETE']] as const) {
      const response = await fetch(url, { method, headers: { authorization: `Bearer ${other}` } });
      expect(response.status, `${method} ${url}`).toBe(404);
      expect(((await response.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    }
    expect((await fetch(status, {})).status).toBe(401);
    expect((await fetch(`${t.url}/bulk/not-an-id`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });

  it('caps the exports one client runs at once (429 with Retry-After)', async () => {
    const client = await t.tokenWithScope('system/*.read');
    await t.server.exports.worker.stop();
    try {
      const first = await startExport(`${t.url}/fhir/$export?_type=Patient`, client);
      await startExport(`${t.url}/fhir/$export?_type=Patient`, client);
      const third = await kickOff(`${t.url}/fhir/$export?_type=Patient`, client);
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBeTruthy();
      // Cancelling one frees its place.
      expect((await fetch(first, { method: 'DELETE', headers: { authorization: `Bearer ${client}` } })).status).toBe(202);
      await startExport(`${t.url}/fhir/$export?_type=Patient`, client);
    } finally {
      t.server.exports.worker.start();
    }
  });
});

describe('cancel, retention and other processes', () => {
  async function chunkRows(jobId: string): Promise<number> {
    const client = new pg.Client({ connectionString: db.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>('SELECT (SELECT count(*) FROM export_chunk WHERE job_id = $1) + (SELECT count(*) FROM export_job WHERE id = $1) AS n', [jobId]);
      return Number(rows[0].n);
    } finally {
      await client.end();
    }
  }

  it('DELETE cancels an export and removes its files', async () => {
    const status = await startExport(`${t.url}/fhir/$export?_type=Patient,Observation`, token);
    const manifest = await awaitManifest(status, token);
    const jobId = status.split('/').pop()!;
    expect(await chunkRows(jobId)).toBeGreaterThan(1);
    const cancelled = await fetch(status, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(cancelled.status).toBe(202);
    expect((await fetch(status, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    expect((await fetch(manifest.output[0].url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    expect(await chunkRows(jobId)).toBe(0);
  });

  it('a second server process on the same database serves status and files', async () => {
    const status = await startExport(`${t.url}/fhir/$export?_type=Observation`, token);
    // The same PUBLIC_URL: behind a load balancer both answer for one address (and accept its tokens).
    const second = await startTestServer({ export: EXPORT, publicUrl: t.config.publicUrl }, db);
    try {
      const elsewhere = status.replace(t.url, second.url);
      const manifest = await awaitManifest(elsewhere, token);
      const lines = await download(manifest.output[0].url.replace(t.url, second.url), token);
      expect(lines).toHaveLength(20);
    } finally {
      await second.close();
    }
  });

  it('deletes an export once EXPORT_RETENTION has passed', async () => {
    const short = await startTestServer({ export: { ...EXPORT, retentionMs: 3_000 } }, db);
    try {
      const status = await startExport(`${short.url}/fhir/$export?_type=Practitioner`, short.adminToken);
      const manifest = await awaitManifest(status, short.adminToken);
      const jobId = status.split('/').pop()!;
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      expect((await fetch(manifest.output[0].url, { headers: { authorization: `Bearer ${short.adminToken}` } })).status).toBe(404);
      expect(await chunkRows(jobId)).toBe(0);
    } finally {
      await short.close();
    }
  });

  it('lists the three export operations in the CapabilityStatement, each on its own types', async () => {
    const metadata = (await fhirFetch(`${t.url}/fhir/metadata`, { token: null })).body;
    const rest = metadata.rest[0];
    expect(rest.operation).toEqual(expect.arrayContaining([{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }]));
    const opsOf = (type: string) => rest.resource.find((r: { type: string }) => r.type === type).operation;
    expect(opsOf('Patient')).toEqual(expect.arrayContaining([{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' }]));
    expect(opsOf('Group')).toEqual(expect.arrayContaining([{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export' }]));
    expect(opsOf('Observation').some((o: { name: string }) => o.name === 'export')).toBe(false);
  });
});

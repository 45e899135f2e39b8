/**
 * Issue 16, part 1: the durable change feed against a real PostgreSQL and real server processes.
 * A change committed through one process reaches a subscriber on another; every write path
 * enters the feed and AuditEvents never do; a transaction that took a lower `seq` and committed
 * later is neither missed nor repeated, and comes after the one that committed first; a rolled
 * back transaction emits nothing; and a transaction held open in another database of the same
 * cluster (which holds the cluster-wide `pg_snapshot_xmin` watermark back) does not hold events back.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ChangeFeed, type ChangeEvent } from '../../src/changes/index.ts';
import { stringifyFhirJson } from '../../src/fhir/fhir-json.ts';
import { extractIndexRows } from '../../src/search/extract-index-rows.ts';
import { buildAuditEvent } from '../../src/service/audit/audit-event.ts';
import { buildStoredResource } from '../../src/service/resource-content.ts';
import type { Queryable } from '../../src/store/database.ts';
import { writeVersions } from '../../src/store/resource-repository.ts';
import { recordFeed } from '../helpers/feed-recorder.ts';
import { type ServerProcess, startServerProcess, stopServerProcess } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let db: TestDatabase;
let a: TestServer;
let b: ServerProcess | undefined;
let feed: ChangeFeed;



/** A raw connection in a transaction of its own, writing through the store's own write path. */
async function openRawTransaction(): Promise<{ client: pg.Client; tx: Queryable }> {
  const client = new pg.Client({ connectionString: db.databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  return { client, tx: { query: async (sql, params) => (await client.query(sql, params)).rows as any } };
}

/** Writes a Patient version 1 with `writeVersions`, as `applyWrites` does. */
async function writePatient(tx: Queryable, id: string, family: string): Promise<void> {
  const now = new Date();
  const stored = buildStoredResource({ resourceType: 'Patient', name: [{ family }] }, id, 1, now);
  await writeVersions(tx, [{
    resourceType: 'Patient', id, versionId: 1, lastUpdated: now, deleted: false, content: stringifyFhirJson(stored),
    method: 'POST', action: 'create', indexRows: extractIndexRows(stored), createdBy: 'test',
  }]);
}

async function createPatient(url: string, family: string, token?: string): Promise<string> {
  const res = await fhirFetch(`${url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family }] }, token });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

const is = (type: string, id: string, action?: string) => (e: ChangeEvent) => e.resourceType === type && e.id === id && (!action || e.action === action);

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startTestServer({}, db);
  feed = a.server.changes.feed;
}, 120_000);

afterAll(async () => {
  if (b) await stopServerProcess(b);
  await a?.close();
  await db?.drop();
});

describe('the change feed across processes', () => {
  it('delivers a change committed through process B to a subscriber on process A, in order', async () => {
    b = await startServerProcess(db.databaseUrl);
    const client = await a.createClient({ name: 'writer on B', scope: 'system/*.*' });
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: client.refresh_token! });
    const token = (await (await fetch(`${b.url}/auth/token`, { method: 'POST', body: form })).json() as { access_token: string }).access_token;
    const recorder = await recordFeed(feed);
    try {
      const id = await createPatient(b.url, 'FromB', token);
      expect((await fhirFetch(`${b.url}/fhir/Patient/${id}`, { method: 'PUT', token, body: { resourceType: 'Patient', id, name: [{ family: 'FromB2' }] } })).status).toBe(200);
      expect((await fhirFetch(`${b.url}/fhir/Patient/${id}`, { method: 'DELETE', token })).status).toBe(200);
      await recorder.waitFor(is('Patient', id, 'delete'));
      expect(recorder.historyOf('Patient', id)).toEqual(['create/1', 'update/2', 'delete/3']);
      const positions = recorder.events.map((e) => e.position);
      expect(positions).toEqual([...positions].sort((x, y) => x - y));
    } finally {
      recorder.close();
    }
  }, 90_000);
});

describe('what enters the feed', () => {
  it('publishes every committed create, update and delete, from every write path', async () => {
    const recorder = await recordFeed(feed);
    const url = `${a.url}/fhir`;
    const identifier = `urn:test:${randomUUID()}`;
    const id = await createPatient(a.url, 'Rest');
    expect((await fhirFetch(`${url}/Patient/${id}`, { method: 'PUT', body: { resourceType: 'Patient', id, name: [{ family: 'Put' }] } })).status).toBe(200);
    expect((await fhirFetch(`${url}/Patient/${id}`, {
      method: 'PATCH', headers: { 'content-type': 'application/json-patch+json' }, body: [{ op: 'replace', path: '/name/0/family', value: 'Patched' }],
    })).status).toBe(200);
    expect((await fhirFetch(`${url}/Patient/${id}`, { method: 'DELETE' })).status).toBe(200);
    const conditional = await fhirFetch(`${url}/Patient`, {
      method: 'POST', headers: { 'if-none-exist': `identifier=${identifier}` }, body: { resourceType: 'Patient', identifier: [{ system: identifier, value: '1' }] },
    });
    expect(conditional.status).toBe(201);
    expect((await fhirFetch(`${url}/Patient?identifier=${encodeURIComponent(`${identifier}|1`)}`, {
      method: 'PUT', body: { resourceType: 'Patient', identifier: [{ system: identifier, value: '1' }], active: true },
    })).status).toBe(200);
    expect((await fhirFetch(`${url}/Patient?identifier=${encodeURIComponent(`${identifier}|1`)}`, { method: 'DELETE' })).status).toBe(200);
    const transaction = await fhirFetch(url, {
      method: 'POST', body: {
        resourceType: 'Bundle', type: 'transaction', entry: [
          { fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111', resource: { resourceType: 'Patient', name: [{ family: 'InTransaction' }] }, request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' } }, request: { method: 'POST', url: 'Observation' } },
        ],
      },
    });
    expect(transaction.status, transaction.text).toBe(200);
    const batch = await fhirFetch(url, {
      method: 'POST', body: { resourceType: 'Bundle', type: 'batch', entry: [{ resource: { resourceType: 'Patient', name: [{ family: 'InBatch' }] }, request: { method: 'POST', url: 'Patient' } }] },
    });
    expect(batch.status, batch.text).toBe(200);
    const graphql = await fhirFetch(`${a.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: { query: 'mutation { PatientCreate(res: { name: [{ family: "Graphed" }] }) { id } }' },
    });
    expect(graphql.body.errors, graphql.text).toBeUndefined();

    const location = (entry: { response: { location: string } }) => entry.response.location.split('/');
    const [, transactionPatient] = location(transaction.body.entry[0]);
    const [, transactionObservation] = location(transaction.body.entry[1]);
    const [, batchPatient] = location(batch.body.entry[0]);
    await recorder.waitFor(is('Patient', graphql.body.data.PatientCreate.id, 'create'));
    try {
      expect(recorder.historyOf('Patient', id)).toEqual(['create/1', 'update/2', 'update/3', 'delete/4']);
      expect(recorder.historyOf('Patient', conditional.body.id)).toEqual(['create/1', 'update/2', 'delete/3']);
      expect(recorder.historyOf('Patient', transactionPatient)).toEqual(['create/1']);
      expect(recorder.historyOf('Observation', transactionObservation)).toEqual(['create/1']);
      expect(recorder.historyOf('Patient', batchPatient)).toEqual(['create/1']);
      expect(recorder.historyOf('Patient', graphql.body.data.PatientCreate.id)).toEqual(['create/1']);
    } finally {
      recorder.close();
    }
  });

  it('never publishes AuditEvents, whoever writes them (an admin client, the server\'s audit trail)', async () => {
    const start = await feed.headCursor();
    const body = buildAuditEvent({ action: 'R', interaction: 'read', clientId: 'someone', status: 200, entities: ['Patient/1'], recorded: new Date() });
    const posted = await fhirFetch(`${a.url}/fhir/AuditEvent`, { method: 'POST', body });
    expect(posted.status, posted.text).toBe(201);
    await fhirFetch(`${a.url}/fhir/AuditEvent/${posted.body.id}`);
    await a.server.security.auditLog.flush();
    const marker = await createPatient(a.url, 'AfterAudit');
    const recorder = await recordFeed(feed, { after: start });
    try {
      await recorder.waitFor(is('Patient', marker));
      const stored = await a.server.service.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event`);
      expect(stored[0].n).toBeGreaterThan(1); // the posted one and the server's own trail exist…
      expect(recorder.events.map((e) => `${e.resourceType}/${e.id}`)).toEqual([`Patient/${marker}`]); // …and never entered the feed
      expect((await feed.readAfter(start, 100, { resourceTypes: ['AuditEvent'] })).events).toEqual([]);
    } finally {
      recorder.close();
    }
  });
});

describe('commit order without misses', () => {
  it('delivers a transaction that took a lower seq and committed later, once, after the one that committed first', async () => {
    const start = await feed.headCursor();
    const recorder = await recordFeed(feed, { after: start });
    const late = randomUUID();
    const raw = await openRawTransaction();
    try {
      await writePatient(raw.tx, late, 'Late'); // takes its change_event seq now…
      const early = await createPatient(a.url, 'Early'); // …this one a higher seq, and commits first
      await recorder.waitFor(is('Patient', early));
      expect(recorder.events.some(is('Patient', late))).toBe(false);
      await raw.client.query('COMMIT');
      await recorder.waitFor(is('Patient', late));
      const seqs = await a.server.service.db.query<{ id: string; seq: string }>(
        `SELECT id, seq::text AS seq FROM change_event WHERE id = ANY($1::text[])`, [[early, late]]);
      const seqOf = (id: string) => BigInt(seqs.find((r) => r.id === id)!.seq);
      expect(seqOf(late)).toBeLessThan(seqOf(early));
      const order = (events: ChangeEvent[]) => events.filter((e) => e.id === early || e.id === late).map((e) => e.id);
      expect(order(recorder.events)).toEqual([early, late]);
      expect(order((await feed.readAfter(start, 100)).events)).toEqual([early, late]);
      const positions = recorder.events.map((e) => e.position);
      expect(new Set(positions).size).toBe(positions.length);
    } finally {
      recorder.close();
      await raw.client.end();
    }
  });

  it('emits nothing for a rolled-back transaction', async () => {
    const start = await feed.headCursor();
    const recorder = await recordFeed(feed, { after: start });
    const raw = await openRawTransaction();
    try {
      await writePatient(raw.tx, randomUUID(), 'RolledBack');
      await raw.client.query('ROLLBACK');
      const failed = await fhirFetch(`${a.url}/fhir`, {
        method: 'POST', body: {
          resourceType: 'Bundle', type: 'transaction', entry: [
            { resource: { resourceType: 'Patient', name: [{ family: 'NeverCommitted' }] }, request: { method: 'POST', url: 'Patient' } },
            { resource: { resourceType: 'Patient', id: 'nobody', name: [{ family: 'Stale' }] }, request: { method: 'PUT', url: 'Patient/nobody', ifMatch: 'W/"9"' } },
          ],
        },
      });
      expect(failed.status, failed.text).toBe(412);
      const marker = await createPatient(a.url, 'Marker');
      await recorder.waitFor(is('Patient', marker));
      await a.server.changes.sequencer.flush();
      expect(recorder.events.map((e) => `${e.resourceType}/${e.id}`)).toEqual([`Patient/${marker}`]);
      expect((await feed.readAfter(start, 100)).events.map((e) => e.id)).toEqual([marker]);
    } finally {
      recorder.close();
      await raw.client.end().catch(() => undefined);
    }
  });

  it('keeps events flowing within 1 s while another database of the cluster holds a transaction open', async () => {
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    const name = `fhirgraph_other_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const otherUrl = new URL(inject('adminDatabaseUrl'));
    otherUrl.pathname = `/${name}`;
    const other = new pg.Client({ connectionString: otherUrl.toString() });
    await other.connect();
    const recorder = await recordFeed(feed);
    try {
      await other.query('BEGIN');
      await other.query('CREATE TABLE held (x int)');
      const held = BigInt((await other.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).rows[0].xid);
      // The naive watermark is stuck behind the other database's transaction…
      const xmin = BigInt((await a.server.service.db.query<{ xmin: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin'))[0].xmin);
      expect(xmin).toBeLessThanOrEqual(held);
      // …the feed is not: each change reaches the subscriber within 1 s of its transaction's start
      // (`recordedAt`, PostgreSQL's now() on this machine's clock), HTTP overhead left out.
      for (let i = 0; i < 5; i++) {
        const id = await createPatient(a.url, `WhileHeld${i}`);
        const event = await recorder.waitFor(is('Patient', id), 5_000);
        expect(recorder.receivedAt.get(event.position)! - event.recordedAt.getTime()).toBeLessThan(1_000);
      }
      const stillHeld = BigInt((await a.server.service.db.query<{ xmin: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin'))[0].xmin);
      expect(stillHeld).toBeLessThanOrEqual(held);
    } finally {
      recorder.close();
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('resuming from a cursor', () => {
  it('replays the events after the cursor, then continues live, with no gap and no duplicate at the seam', async () => {
    // A reader of its own with small pages, so the catch-up takes several reads while writes go on.
    const small = new ChangeFeed(a.server.service.db, { pollMs: 1_000, pageSize: 3 });
    await small.start();
    const start = await small.headCursor();
    const ids: string[] = [];
    const writers = Array.from({ length: 3 }, async (_, w) => {
      for (let i = 0; i < 10; i++) ids.push(await createPatient(a.url, `Resume${w}-${i}`));
    });
    while (ids.length < 8) await new Promise((resolve) => setTimeout(resolve, 10));
    const recorder = await recordFeed(small, { after: start });
    try {
      await Promise.all(writers);
      for (const id of ids) await recorder.waitFor(is('Patient', id));
      const replayed = (await small.readAfter(start, 1_000)).events;
      expect(recorder.events.map((e) => e.position)).toEqual(replayed.map((e) => e.position));
      const positions = recorder.events.map((e) => e.position);
      expect(positions).toEqual(positions.map((_, i) => positions[0] + i)); // dense: nothing skipped
      expect(new Set(recorder.events.map((e) => e.id))).toEqual(new Set(ids));
      expect(recorder.errors).toEqual([]);
    } finally {
      recorder.close();
      await small.stop();
    }
  });
});

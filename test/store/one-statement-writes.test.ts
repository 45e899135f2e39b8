/**
 * Issue 18 (CRUD mix, POST targets): fewer round trips per write. A transaction whose work is one
 * statement runs it alone, without `BEGIN`/`COMMIT` (a plain create), a write's AuditEvent is a
 * CTE of its write statement, and an update or delete reads its state without locks and writes in
 * one statement that takes the locks itself, failing whole when another writer got there first.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringifyFhirJson } from '../../src/fhir/fhir-json.ts';
import { extractIndexRows } from '../../src/search/extract-index-rows.ts';
import { auditRowOf } from '../../src/service/audit/audit-log.ts';
import { buildStoredResource } from '../../src/service/resource-content.ts';
import { ConnectionSlots } from '../../src/store/connection-slots.ts';
import { Database } from '../../src/store/database.ts';
import { runInQueryScope, type QueryScope } from '../../src/store/query-scope.ts';
import { ScopeCancel } from '../../src/store/scope-cancel.ts';
import { readStates, writeVersions, type VersionToWrite } from '../../src/store/resource-repository.ts';
import { StaleStateError } from '../../src/store/stale-state-error.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let db: Database;
let raw: pg.Client;

beforeAll(async () => {
  t = await startTestServer();
  db = t.server.service.db;
  raw = new pg.Client({ connectionString: t.databaseUrl });
  await raw.connect();
  await raw.query('CREATE TABLE one_statement_probe (n int)');
});
afterAll(async () => {
  await raw?.end();
  await t?.close();
});

/** True when the statement ran as its own transaction (no `BEGIN` before it). */
const ALONE = 'SELECT transaction_timestamp() = statement_timestamp() AS alone, pg_current_xact_id()::text AS xid';

async function auditRowsNaming(reference: string): Promise<{ interaction: string; outcome: string }[]> {
  return (await raw.query('SELECT interaction, outcome FROM audit_event WHERE $1 = ANY (entities) ORDER BY recorded', [reference])).rows;
}

function patientVersion(id: string, versionId: number, family: string): VersionToWrite {
  const now = new Date();
  const stored = buildStoredResource({ resourceType: 'Patient', name: [{ family }] }, id, versionId, now);
  return {
    resourceType: 'Patient', id, versionId, lastUpdated: now, deleted: false, content: stringifyFhirJson(stored),
    method: versionId === 1 ? 'POST' : 'PUT', action: versionId === 1 ? 'create' : 'update', indexRows: extractIndexRows(stored), createdBy: 'test',
  };
}

describe('a transaction of one statement', () => {
  it('runs a statement called the last and the first on its own, without BEGIN and COMMIT', async () => {
    const [row] = await db.transaction((tx) => tx.query<{ alone: boolean }>(ALONE, [], { last: true }));
    expect(row.alone).toBe(true);
  });

  it('still opens a transaction around several statements, the last one included', async () => {
    const rows = await db.transaction(async (tx) => [
      ...(await tx.query<{ alone: boolean; xid: string }>(ALONE)),
      ...(await tx.query<{ alone: boolean; xid: string }>(ALONE, [], { last: true })),
    ]);
    expect(rows.map((r) => r.alone)).toEqual([false, false]);
    expect(rows[0].xid).toBe(rows[1].xid);
  });

  it('leaves nothing of a failed lone statement, and rolls back a failed transaction whole', async () => {
    await expect(db.transaction((tx) => tx.query(
      'WITH i AS (INSERT INTO one_statement_probe VALUES (1)) SELECT 1 / 0', [], { last: true },
    ))).rejects.toThrow();
    await expect(db.transaction(async (tx) => {
      await tx.query('INSERT INTO one_statement_probe VALUES (2)');
      await tx.query('SELECT 1 / 0', [], { last: true });
    })).rejects.toThrow();
    expect((await raw.query('SELECT count(*)::int AS n FROM one_statement_probe')).rows[0].n).toBe(0);
  });

  it('refuses a statement sent after the one called the last', async () => {
    await expect(db.transaction(async (tx) => {
      await tx.query('SELECT 1', [], { last: true });
      await tx.query('SELECT 2');
    })).rejects.toThrow(/after the one it called its last/);
  });
});

describe('the statement_timeout of a connection shared by requests and background work', () => {
  it('runs background transactions at the server default without unsetting the request timeout of the connection', async () => {
    const single = await Database.open(t.databaseUrl, { poolSize: 1, migrate: false });
    try {
      // A scope ends with the work run in it: a fresh one per request.
      const scope = (): QueryScope => ({ cancel: new ScopeCancel(), statementTimeoutMs: 4321, connections: new ConnectionSlots(1), ended: false });
      const show = async (q: { query: Database['query'] }, options?: { last?: boolean }) =>
        (await q.query<{ statement_timeout: string }>('SHOW statement_timeout', [], options))[0].statement_timeout;
      expect(await runInQueryScope(scope(), () => show(single))).toBe('4321ms');
      expect(await single.transaction(async (tx) => [await show(tx), await show(tx)])).toEqual(['0', '0']);
      expect(await single.transaction((tx) => show(tx, { last: true }))).toBe('0');
      expect(await runInQueryScope(scope(), () => single.transaction((tx) => show(tx)))).toBe('4321ms');
      expect(await single.query<{ statement_timeout: string }>('SHOW statement_timeout').then((r) => r[0].statement_timeout)).toBe('0');
      expect(await runInQueryScope(scope(), () => show(single))).toBe('4321ms');
    } finally {
      await single.close();
    }
  });
});

describe('writes and their AuditEvent in one statement', () => {
  it('stores a create, its change event and its AuditEvent together', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Lone' }] } });
    expect(res.status).toBe(201);
    const reference = `Patient/${res.body.id}`;
    expect(await auditRowsNaming(reference)).toEqual([{ interaction: 'create', outcome: '0' }]);
    const events = await raw.query('SELECT action FROM change_event WHERE resource_type = $1 AND id = $2', ['Patient', res.body.id]);
    expect(events.rows).toEqual([{ action: 'create' }]);
  });

  it('audits an update and a delete once each, and a repeated delete in the background only', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Audited' }] } });
    const url = `${t.url}/fhir/Patient/${created.body.id}`;
    expect((await fhirFetch(url, { method: 'PUT', body: { resourceType: 'Patient', id: created.body.id, name: [{ family: 'Audited2' }] } })).status).toBe(200);
    expect((await fhirFetch(url, { method: 'DELETE' })).status).toBe(200);
    expect((await auditRowsNaming(`Patient/${created.body.id}`)).map((r) => r.interaction)).toEqual(['create', 'update', 'delete']);
  });
});

describe('an update planned without locks', () => {
  it('fails whole with StaleStateError when another writer stored that version first, leaving no row of its own', async () => {
    const id = randomUUID();
    await db.transaction((tx) => writeVersions(tx, [patientVersion(id, 1, 'First')]));
    const stale = await readStates(db, [{ resourceType: 'Patient', id }]);
    expect(stale.get(`Patient/${id}`)).toMatchObject({ versionId: 1, deleted: false });
    await db.transaction((tx) => writeVersions(tx, [patientVersion(id, 2, 'Winner')]));
    const audit = auditRowOf({
      action: 'U', interaction: 'update', clientId: 'test', clientName: 'test', status: 200, entities: [`Patient/${id}`], recorded: new Date(),
    });
    await expect(db.transaction((tx) => writeVersions(tx, [patientVersion(id, 2, 'Loser')], { audit, last: true, lockFirst: true })))
      .rejects.toBeInstanceOf(StaleStateError);
    expect(await auditRowsNaming(`Patient/${id}`)).toEqual([]);
    const current = await raw.query(`SELECT version_id, content->'name'->0->>'family' AS family FROM resource WHERE resource_type = 'Patient' AND id = $1`, [id]);
    expect(current.rows).toEqual([{ version_id: 2, family: 'Winner' }]);
    const found = await raw.query(`SELECT count(*)::int AS n FROM search_string WHERE resource_id = $1 AND value = 'Loser'`, [id]);
    expect(found.rows[0].n).toBe(0);
  });

  it('answers every one of many concurrent updates, with consecutive versions, falling back to locks when it loses a race', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Busy0' }] } });
    const url = `${t.url}/fhir/Patient/${created.body.id}`;
    const updates = await Promise.all(Array.from({ length: 16 }, (_, i) => fhirFetch(url, {
      method: i % 4 === 3 ? 'DELETE' : 'PUT', body: i % 4 === 3 ? undefined : { resourceType: 'Patient', id: created.body.id, name: [{ family: `Busy${i + 1}` }] },
    })));
    expect(updates.map((u) => u.status).filter((s) => s !== 200 && s !== 201 && s !== 204)).toEqual([]);
    const history = (await raw.query('SELECT version_id FROM resource_history WHERE resource_type = $1 AND id = $2 ORDER BY version_id', ['Patient', created.body.id])).rows;
    const current = (await raw.query('SELECT version_id FROM resource WHERE resource_type = $1 AND id = $2', ['Patient', created.body.id])).rows[0];
    expect(history.map((h) => h.version_id)).toEqual(Array.from({ length: history.length }, (_, i) => i + 1));
    expect(current.version_id).toBe(history.length);
    const audits = await auditRowsNaming(`Patient/${created.body.id}`);
    // One event per stored version, in the write's own statement (a repeated delete's comes later, from the batch).
    expect(audits.length).toBeGreaterThanOrEqual(history.length);
    expect(audits.length).toBeLessThanOrEqual(17);
  });
});

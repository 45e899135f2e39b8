/**
 * Issue 18 (audit that costs little): the audit trail lives in `audit_event` (migration 0010), a
 * table partitioned by month, and is read back as FHIR AuditEvent. What a client observes: search
 * by date, agent, entity, action and outcome with paging; a GraphQL read recorded as one IHE BALP
 * "query" event; `AUDIT_RETENTION` dropping whole months; and the migration moving AuditEvents
 * stored as resources before it into the new table, readable as they were.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPartitions } from '../../src/service/audit/audit-partitions.ts';
import { migrateDatabase } from '../../src/store/migrate.ts';
import { openOrm } from '../../src/store/orm.ts';
import { createEmptyTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';
import { awaitManifest, downloadAll, startExport } from '../operations/export-helpers.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

/** A fresh client whose events are told apart from every other's, and a token for it. */
async function freshClient(name: string): Promise<{ clientId: string; token: string }> {
  const client = await t.createClient({ name, scope: 'system/*.*' });
  return { clientId: client.client_id, token: await t.tokenFor(client.refresh_token!) };
}

async function search(query: string, headers: Record<string, string> = {}): Promise<any> {
  await t.server.security.auditLog.flush();
  const res = await fhirFetch(`${t.url}/fhir/AuditEvent?${query}`, { token: t.adminToken, headers });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** The matches of a search once there are at least `n` (events are queued once their answer has been sent). */
async function awaitMatches(query: string, n: number): Promise<any[]> {
  let found: any[] = [];
  for (const deadline = Date.now() + 5_000; found.length < n && Date.now() < deadline;) {
    found = matches(await search(query));
    if (found.length < n) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return found;
}

const matches = (bundle: any): any[] => (bundle.entry ?? []).filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource);

describe('AuditEvent search over the audit trail', () => {
  it('finds events by agent, entity, action, outcome and date, and pages through them', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const { clientId, token } = await freshClient('audit searcher');
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Audited' }] }, token });
    expect(created.status).toBe(201);
    const patient = `Patient/${created.body.id}`;
    expect((await fhirFetch(`${t.url}/fhir/${patient}`, { token })).status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/Patient/no-such-patient`, { token })).status).toBe(404);
    const after = new Date(Date.now() + 1000).toISOString();

    // agent: every event of the client (token issue, create, two reads), and nobody else's.
    const mine = await awaitMatches(`agent=${clientId}&_count=100`, 4);
    expect(mine.map((e) => e.subtype[0].code).sort()).toEqual(['110122', 'create', 'read', 'read']); // 110122: Login (the token)
    for (const event of mine) expect(event.agent[0].who.identifier.value).toBe(clientId);

    // entity: the create and the read of the patient, each naming it.
    const ofPatient = matches(await search(`entity=${patient}&agent=${clientId}`));
    expect(ofPatient.map((e) => `${e.action} ${e.subtype[0].code}`).sort()).toEqual(['C create', 'R read']);
    for (const event of ofPatient) expect(event.entity.map((x: any) => x.what.reference)).toContain(patient);

    // action and outcome (system|code too).
    expect(matches(await search(`action=C&agent=${clientId}`)).map((e) => e.entity[0].what.reference)).toEqual([patient]);
    expect(matches(await search(`action=http://hl7.org/fhir/audit-event-action|C&agent=${clientId}`))).toHaveLength(1);
    const failed = matches(await search(`outcome=4&agent=${clientId}`));
    expect(failed.map((e) => [e.outcomeDesc.slice(0, 3), e.entity[0].what.reference])).toEqual([['404', 'Patient/no-such-patient']]);
    expect(matches(await search(`outcome=0,4&agent=${clientId}&_count=100`))).toHaveLength(4);

    // date: the window holds all of them, before it none.
    expect(matches(await search(`date=ge${before}&date=le${after}&agent=${clientId}&_count=100`))).toHaveLength(4);
    expect(matches(await search(`date=lt${before}&agent=${clientId}`))).toHaveLength(0);

    // Paging newest first, one a page, with an accurate total; the pages cover every event once.
    let page = await search(`agent=${clientId}&_count=1&_sort=-date&_total=accurate`);
    expect(page.total).toBe(4);
    const seen: any[] = [];
    for (;;) {
      seen.push(...matches(page));
      const next = page.link.find((l: any) => l.relation === 'next');
      if (!next) break;
      page = (await fhirFetch(next.url, { token: t.adminToken })).body;
    }
    expect(seen.map((e) => e.id).sort()).toEqual(mine.map((e) => e.id).sort());
    const times = seen.map((e) => e.recorded);
    expect(times).toEqual([...times].sort().reverse());
    expect((await search(`agent=${clientId}&_summary=count`)).total).toBe(4);

    // Each one reads back by id and vread as the same resource.
    const one = seen[0];
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent/${one.id}`, { token: t.adminToken })).body).toEqual(one);
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent/${one.id}/_history/1`, { token: t.adminToken })).body).toEqual(one);
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent/${one.id}/_history/2`, { token: t.adminToken })).status).toBe(404);
    expect(one.meta).toEqual({ versionId: '1', lastUpdated: one.recorded });
  });

  it('treats a parameter the audit trail cannot answer like an unknown one', async () => {
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent?site=x`, { token: t.adminToken, headers: { prefer: 'handling=strict' } })).status).toBe(400);
    const lenient = await search('site=x&_count=1');
    const outcome = lenient.entry.find((e: any) => e.search.mode === 'outcome');
    expect(outcome.resource.issue[0].code).toBe('not-supported');
  });

  it('records a GraphQL read as one BALP query event: the patients it touched and the query', async () => {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Graphed' }] } });
    for (const code of ['a', 'b']) {
      const observation = { resourceType: 'Observation', status: 'final', code: { text: code }, subject: { reference: `Patient/${patient.body.id}` } };
      expect((await fhirFetch(`${t.url}/fhir/Observation`, { method: 'POST', body: observation })).status).toBe(201);
    }
    const { clientId, token } = await freshClient('graph reader');
    const query = `{ PatientList(_id: "${patient.body.id}") { id ObservationList(_reference: subject) { id status } } }`;
    const res = await fhirFetch(`${t.url}/fhir/$graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }), token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.PatientList[0].ObservationList).toHaveLength(2);

    const events = await awaitMatches(`agent=${clientId}&subtype=graphql`, 1);
    expect(events, JSON.stringify(matches(await search(`agent=${clientId}`)))).toHaveLength(1);
    const [event] = events;
    expect(event.action).toBe('R');
    const references = event.entity.filter((x: any) => x.what).map((x: any) => x.what.reference);
    expect(references).toEqual([`Patient/${patient.body.id}`]);
    const queries = event.entity.filter((x: any) => x.query);
    expect(queries).toHaveLength(1);
    expect(queries[0].type.code).toBe('2');
    expect(queries[0].role.code).toBe('24');
    expect(Buffer.from(queries[0].query, 'base64').toString('utf8')).toBe(query);

    // GraphQL reads the trail the same way: a list by agent, and the events naming a patient under it.
    const naming = matches(await search(`entity=Patient/${patient.body.id}&_count=50`));
    const reverse = `{ PatientList(_id: "${patient.body.id}") { id AuditEventList(_reference: entity, _count: 50) { id action } } AuditEventList(agent: "${clientId}") { id } }`;
    const graph = await fhirFetch(`${t.url}/fhir/$graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: reverse }), token: t.adminToken });
    expect(graph.body.errors, graph.text).toBeUndefined();
    expect(graph.body.data.AuditEventList.map((e: any) => e.id)).toContain(event.id);
    expect(graph.body.data.PatientList[0].AuditEventList.map((e: any) => e.id).sort()).toEqual(naming.map((e) => e.id).sort());
  });
});

describe('Bulk Data export of AuditEvents', () => {
  it('exports the audit trail when _type names it, each event as it reads back', async () => {
    const { clientId, token } = await freshClient('exported');
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' }, token });
    await fhirFetch(`${t.url}/fhir/Patient/${patient.body.id}`, { token });
    const query = `{ PatientList(_id: "${patient.body.id}") { id } }`;
    await fhirFetch(`${t.url}/fhir/$graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }), token });
    const posted = await fhirFetch(`${t.url}/fhir/AuditEvent`, { method: 'POST', body: {
      resourceType: 'AuditEvent', type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110100' }, recorded: '2024-01-01T00:00:00Z',
      agent: [{ requestor: true, who: { identifier: { value: clientId } } }], source: { observer: { display: 'importer' } },
    } });
    expect(posted.status).toBe(201);
    const mine = await awaitMatches(`agent=${clientId}&_count=100`, 5);
    expect(mine).toHaveLength(5); // token, create, read, the GraphQL query, the posted one

    const files = await downloadAll(await awaitManifest(await startExport(`${t.url}/fhir/$export?_type=AuditEvent`, t.adminToken), t.adminToken), t.adminToken);
    const exported = new Map((files.get('AuditEvent') ?? []).map((e) => [e.id, e]));
    for (const event of mine) expect(exported.get(event.id), event.id).toEqual(event);
  });
});

describe('$everything with _type=AuditEvent', () => {
  it("lists the AuditEvents naming the patient, as they read back", async () => {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
    await fhirFetch(`${t.url}/fhir/Patient/${patient.body.id}`);
    const naming = await awaitMatches(`entity=Patient/${patient.body.id}`, 2);
    expect(naming).toHaveLength(2); // the create and the read
    const everything = await fhirFetch(`${t.url}/fhir/Patient/${patient.body.id}/$everything?_type=AuditEvent`, { token: t.adminToken });
    expect(everything.status, everything.text).toBe(200);
    const listed = everything.body.entry.filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource);
    expect(listed.map((e: any) => e.id).sort()).toEqual(naming.map((e) => e.id).sort());
    for (const event of listed) expect(event).toEqual(naming.find((e) => e.id === event.id));
    // Without _type, AuditEvents are left out as before.
    const record = await fhirFetch(`${t.url}/fhir/Patient/${patient.body.id}/$everything`, { token: t.adminToken });
    expect(record.body.entry.map((e: any) => e.resource?.resourceType)).not.toContain('AuditEvent');
  });
});

describe('AUDIT_RETENTION', () => {
  it('drops the months older than the retention whole, and only those', async () => {
    const { db } = t.server.service;
    const log = t.server.security.auditLog;
    const old = { action: 'R' as const, interaction: 'read', clientId: 'retention-probe', status: 200, entities: ['Patient/old'], recorded: new Date('2025-03-10T12:00:00Z') };
    const recent = { ...old, entities: ['Patient/recent'], recorded: new Date() };
    await db.transaction((tx) => log.writeAllInTransaction(tx, [old, recent]));
    // The old event went to the DEFAULT partition; creating its month's partition moves it there.
    await db.query(`SELECT audit_event_ensure_partition('2025-03-01')`);
    const partitions = async () => (await db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_event'::regclass`)).map((r) => r.name);
    expect(await partitions()).toContain('audit_event_p202503');
    const probe = async () => matches(await search('agent=retention-probe')).map((e) => e.entity[0].what.reference).sort();
    expect(await probe()).toEqual(['Patient/old', 'Patient/recent']);

    const dropped = await new AuditPartitions(db, 30 * 86_400_000).maintain();
    expect(dropped).toBeGreaterThanOrEqual(1);
    expect(await partitions()).not.toContain('audit_event_p202503');
    expect(await partitions()).toContain('audit_event_default');
    expect(await probe()).toEqual(['Patient/recent']);
  });
});

describe('migration 0010', () => {
  let empty: TestDatabase;
  beforeAll(async () => { empty = await createEmptyTestDatabase(); });
  afterAll(() => empty.drop());

  it('moves the AuditEvents stored as resources into the audit trail, readable as they were', async () => {
    const url = empty.databaseUrl;
    const orm = await openOrm(url, 2);
    try {
      await orm.getMigrator().up({ to: '0009-bulk-export' });
    } finally {
      await orm.close(true);
    }
    const event = {
      resourceType: 'AuditEvent', id: 'moved-1', meta: { versionId: '1', lastUpdated: '2025-06-01T10:00:00.000Z' },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }], action: 'R', recorded: '2025-06-01T10:00:00.000Z', outcome: '0',
      agent: [{ who: { identifier: { system: 'urn:fhirgraph:client', value: 'legacy-client' }, display: 'legacy' }, requestor: true }],
      source: { observer: { display: 'fhirgraph' } }, entity: [{ what: { reference: 'Patient/legacy' } }],
    };
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`INSERT INTO resource (resource_type, id, version_id, last_updated, content) VALUES ('AuditEvent', 'moved-1', 1, $1, $2)`,
        [event.meta.lastUpdated, JSON.stringify(event)]);
      await client.query(`INSERT INTO resource_history (resource_type, id, version_id, last_updated, method, content) VALUES ('AuditEvent', 'moved-1', 1, $1, 'POST', $2)`,
        [event.meta.lastUpdated, JSON.stringify(event)]);
      await client.query(`INSERT INTO search_token (resource_type, resource_id, param, system, code) VALUES ('AuditEvent', 'moved-1', 'action', null, 'R')`);
      await client.query(`INSERT INTO search_reference (resource_type, resource_id, param, target_type, target_id) VALUES ('AuditEvent', 'moved-1', 'entity', 'Patient', 'legacy')`);

      await migrateDatabase(url);

      const left = await client.query(`SELECT (SELECT count(*) FROM resource WHERE resource_type = 'AuditEvent') + (SELECT count(*) FROM resource_history WHERE resource_type = 'AuditEvent')
        + (SELECT count(*) FROM search_token WHERE resource_type = 'AuditEvent') + (SELECT count(*) FROM search_reference WHERE resource_type = 'AuditEvent') AS n`);
      expect(Number(left.rows[0].n)).toBe(0);
      const moved = await client.query(`SELECT id, recorded, action, outcome, client_id, entities, tableoid::regclass::text AS part FROM audit_event`);
      expect(moved.rows).toEqual([{
        id: 'moved-1', recorded: new Date('2025-06-01T10:00:00Z'), action: 'R', outcome: '0', client_id: 'legacy-client', entities: ['Patient/legacy'], part: 'audit_event_p202506',
      }]);
    } finally {
      await client.end();
    }

    const server = await startTestServer({}, { databaseUrl: url, drop: async () => undefined });
    try {
      const read = await fhirFetch(`${server.url}/fhir/AuditEvent/moved-1`, { token: server.adminToken });
      expect(read.body).toEqual(event);
      const found = await fhirFetch(`${server.url}/fhir/AuditEvent?entity=Patient/legacy&agent=legacy-client&action=R&date=2025-06`, { token: server.adminToken });
      expect(matches(found.body).map((e) => e.id)).toEqual(['moved-1']);
    } finally {
      await server.close();
    }
  });
});

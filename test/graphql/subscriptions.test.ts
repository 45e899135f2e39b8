/**
 * Issue 16, part 2: GraphQL subscriptions over graphql-ws (`ws://…/graphql`, CONTRACT.md "Change
 * triggers"), against the real server with the real `graphql-ws` client. Each event carries the
 * version its change wrote, resolved like a query (nested references through the loaders);
 * criteria filter as the REST search would, actions filter, a type outside the token's scope is
 * refused and never delivered; `since` resumes without gap or duplicate while writes go on; the
 * query limits, the REST search limits, the subscriptions-per-connection limit and the rate limit
 * apply to starts; starts and ends are audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, record, wsUrl, type WsConnection } from '../helpers/subscription-client.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const open: WsConnection[] = [];

const LOINC = 'http://loinc.org';

async function create(resource: Record<string, unknown>, token?: string): Promise<string> {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource, token });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

async function update(resource: Record<string, unknown> & { id: string }): Promise<void> {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}/${resource.id}`, { method: 'PUT', body: resource });
  expect(res.status, res.text).toBe(200);
}

async function remove(type: string, id: string): Promise<void> {
  expect((await fhirFetch(`${t.url}/fhir/${type}/${id}`, { method: 'DELETE' })).status).toBe(200);
}

/** The cursor of the newest event: subscribing `since` it gets every change made after this call, whenever the stream opens. */
function head(): Promise<string> {
  return t.server.changes.feed.headCursor();
}

async function connection(token = t.adminToken): Promise<WsConnection> {
  const c = await connect(t.url, token);
  open.push(c);
  return c;
}

function observation(subject: string, code: string, value: number, date: string, status = 'final'): Record<string, unknown> {
  return {
    resourceType: 'Observation', status, code: { coding: [{ system: LOINC, code }] }, subject: { reference: `Patient/${subject}` },
    effectiveDateTime: date, valueQuantity: { value, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
  };
}

beforeAll(async () => {
  t = await startTestServer({ websocket: { maxSubscriptions: 5, maxConnectionsPerClient: 50, maxQueuedEvents: 10_000, maxBufferBytes: 16 * 1024 * 1024 } });
}, 120_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.dispose()));
  await t?.close();
});

describe('events', () => {
  it('delivers each create, update and delete with the version it wrote, resolving references like a query; resource is null for a delete', async () => {
    const patient = await create({ resourceType: 'Patient', name: [{ family: 'Lovelace' }] });
    const since = await head();
    const id = await create(observation(patient, '8867-4', 70, '2024-03-01', 'preliminary'));
    await update({ ...observation(patient, '8867-4', 72, '2024-03-01', 'final'), id });
    await remove('Observation', id);
    // Subscribed after all three: each event still shows its own version, not the current one.
    const sub = record(await connection(), `subscription ($since: String) {
      ObservationChanged(since: $since) { action id versionId cursor resource { id status valueQuantity { value } meta { versionId }
        subject { reference resource { ... on Patient { name { family } } } } } } }`, { since });
    await sub.waitForCount(3);
    expect(sub.results.every((r) => r.errors === undefined)).toBe(true);
    const events = sub.data.map((d) => d.ObservationChanged);
    expect(events.map((e) => [e.action, e.id, e.versionId])).toEqual([['CREATE', id, '1'], ['UPDATE', id, '2'], ['DELETE', id, '3']]);
    // Decimals keep their exact text (DECISIONS.md §3), as in queries.
    expect(events[0].resource).toMatchObject({ id, status: 'preliminary', valueQuantity: { value: '70' }, meta: { versionId: '1' } });
    expect(events[1].resource).toMatchObject({ status: 'final', valueQuantity: { value: '72' }, meta: { versionId: '2' } });
    expect(events[1].resource.subject).toEqual({ reference: `Patient/${patient}`, resource: { name: [{ family: 'Lovelace' }] } });
    expect(events[2].resource).toBeNull();
    expect(new Set(events.map((e) => e.cursor)).size).toBe(3);
  });

  it('delivers only the actions asked for', async () => {
    const since = await head();
    const sub = record(await connection(), 'subscription ($since: String) { PatientChanged(since: $since, actions: [DELETE, UPDATE]) { action id } }', { since });
    const id = await create({ resourceType: 'Patient', name: [{ family: 'Actions' }] });
    await update({ resourceType: 'Patient', id, active: true });
    await remove('Patient', id);
    await sub.waitFor((d) => d.PatientChanged.action === 'DELETE' && d.PatientChanged.id === id);
    expect(sub.data.map((d) => d.PatientChanged.action)).toEqual(['UPDATE', 'DELETE']);
  });

  it('filters by criteria as the REST search would: token, reference, date, quantity, string through a chain', async () => {
    const curie = await create({ resourceType: 'Patient', name: [{ family: 'Curie' }] });
    const other = await create({ resourceType: 'Patient', name: [{ family: 'Bohr' }] });
    const since = await head();
    const c = await connection();
    const query = 'subscription ($since: String, $criteria: String) { ObservationChanged(since: $since, criteria: $criteria) { id } }';
    const criteria = {
      token: `code=${LOINC}|8867-4`,
      reference: `subject=Patient/${curie}`,
      date: 'date=ge2024-01-01',
      quantity: 'value-quantity=gt100',
      chain: 'subject:Patient.name=curie',
    };
    const subs = Object.fromEntries(Object.entries(criteria).map(([name, text]) => [name, record(c, query, { since, criteria: text })]));
    const ids = {
      heartCurie2024: await create(observation(curie, '8867-4', 60, '2024-05-01')),
      weightOther2023: await create(observation(other, '29463-7', 120, '2023-05-01')),
      heartOther2023: await create(observation(other, '8867-4', 99, '2023-01-01')),
      weightCurie2022: await create(observation(curie, '29463-7', 101, '2022-12-31')),
    };
    // Matches every criterion: once it has arrived everywhere, every earlier event has been judged.
    const last = await create(observation(curie, '8867-4', 150, '2025-01-01'));
    for (const sub of Object.values(subs)) await sub.waitFor((d) => d.ObservationChanged.id === last);
    const received = (name: string) => subs[name].data.map((d) => d.ObservationChanged.id);
    expect(received('token')).toEqual([ids.heartCurie2024, ids.heartOther2023, last]);
    expect(received('reference')).toEqual([ids.heartCurie2024, ids.weightCurie2022, last]);
    expect(received('date')).toEqual([ids.heartCurie2024, last]);
    expect(received('quantity')).toEqual([ids.weightOther2023, ids.weightCurie2022, last]);
    expect(received('chain')).toEqual([ids.heartCurie2024, ids.weightCurie2022, last]);
  });

  it('matches an update on the version it wrote and a delete on the version before it', async () => {
    const patient = await create({ resourceType: 'Patient' });
    const since = await head();
    const sub = record(await connection(), 'subscription ($since: String) { ObservationChanged(since: $since, criteria: "status=final") { action versionId } }', { since });
    const id = await create(observation(patient, '8867-4', 1, '2024-01-01', 'preliminary'));
    await update({ ...observation(patient, '8867-4', 2, '2024-01-01', 'final'), id });
    await update({ ...observation(patient, '8867-4', 3, '2024-01-01', 'amended'), id });
    await update({ ...observation(patient, '8867-4', 4, '2024-01-01', 'final'), id });
    await remove('Observation', id);
    await sub.waitFor((d) => d.ObservationChanged.action === 'DELETE');
    expect(sub.data.map((d) => `${d.ObservationChanged.action}/${d.ObservationChanged.versionId}`)).toEqual(['UPDATE/2', 'UPDATE/4', 'DELETE/5']);
  });
});

describe('authorisation', () => {
  it('refuses a type outside the token\'s scope, and never delivers it', async () => {
    const token = await t.tokenWithScope('system/Patient.rs');
    const c = await connection(token);
    const refused = record(c, 'subscription { ObservationChanged { id } }');
    const [error] = await refused.waitForFailure();
    expect(error.extensions.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/Observation/);
    const since = await head();
    const allowed = record(c, 'subscription ($since: String) { PatientChanged(since: $since) { id } }', { since });
    await create(observation(await create({ resourceType: 'Patient' }), '8867-4', 1, '2024-01-01'));
    const marker = await create({ resourceType: 'Patient', name: [{ family: 'Marker' }] });
    await allowed.waitFor((d) => d.PatientChanged.id === marker);
    expect(refused.data).toEqual([]);
    expect(JSON.stringify(allowed.results)).not.toContain('Observation');
  });

  it('authorises criteria like a REST search: searching the type, and every type a chain names', async () => {
    const readOnly = await connection(await t.tokenWithScope('system/Observation.r'));
    expect((await record(readOnly, 'subscription { ObservationChanged(criteria: "status=final") { id } }').waitForFailure())[0].extensions.code).toBe('FORBIDDEN');
    const noPatients = await connection(await t.tokenWithScope('system/Observation.rs'));
    const [chained] = await record(noPatients, 'subscription { ObservationChanged(criteria: "subject:Patient.name=x") { id } }').waitForFailure();
    expect(chained.extensions.code).toBe('FORBIDDEN');
    expect(chained.message).toMatch(/Patient/);
  });

  it('answers a reference to a type outside the scope with FORBIDDEN on that field, as a query does', async () => {
    const patient = await create({ resourceType: 'Patient', name: [{ family: 'Hidden' }] });
    const since = await head();
    const sub = record(await connection(await t.tokenWithScope('system/Observation.rs')),
      'subscription ($since: String) { ObservationChanged(since: $since) { id resource { subject { reference resource { ... on Patient { name { family } } } } } } }', { since });
    const id = await create(observation(patient, '8867-4', 1, '2024-01-01'));
    await sub.waitForCount(1);
    const [result] = sub.results;
    expect(result.data.ObservationChanged).toEqual({ id, resource: { subject: { reference: `Patient/${patient}`, resource: null } } });
    expect(result.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(result)).not.toContain('Hidden');
  });

  it('closes a connection without a valid token with 4401', async () => {
    for (const token of [null, 'not-a-jwt']) {
      const c = await connect(t.url, token);
      const closed = await c.closed;
      expect(closed.code).toBe(4401);
      expect(closed.reason).toMatch(/Unauthorized/);
      await c.dispose();
    }
  });

  it('answers 404 to a WebSocket upgrade anywhere but /graphql', async () => {
    const c = await connect(t.url.replace(/$/, '/fhir'), t.adminToken, { waitForAck: false });
    const closed = await c.closed;
    expect(closed.code).not.toBe(1000);
    expect(wsUrl(t.url)).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/graphql$/);
    await c.dispose();
  });
});

describe('resuming with since', () => {
  it('resumes after the last event received with no gap and no duplicate while writes go on', async () => {
    const since = await head();
    const written: string[] = [];
    let writing = true;
    const writer = (async () => {
      while (writing && written.length < 150) written.push(await create({ resourceType: 'Patient', name: [{ family: `W${written.length}` }] }));
    })();
    const query = 'subscription ($since: String) { PatientChanged(since: $since, actions: [CREATE]) { id cursor } }';
    const first = await connection();
    const before = record(first, query, { since });
    await before.waitForCount(20, 30_000);
    await first.dispose();
    const received = before.data.map((d) => d.PatientChanged);
    // Resume from the last event the client saw, while the writer is still writing.
    const after = record(await connection(), query, { since: received[received.length - 1].cursor });
    await after.waitForCount(40, 30_000);
    writing = false;
    await writer;
    const last = written[written.length - 1];
    await after.waitFor((d) => d.PatientChanged.id === last, 30_000);
    const all = [...received, ...after.data.map((d) => d.PatientChanged)].map((e) => e.id);
    expect(all.filter((id) => written.includes(id))).toEqual(written);
    expect(new Set(all).size).toBe(all.length);
  }, 120_000);

  it('refuses a cursor that is not one of ours with BAD_USER_INPUT', async () => {
    const [error] = await record(await connection(), 'subscription { PatientChanged(since: "bm90LWEtY3Vyc29y") { id } }').waitForFailure();
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/cursor/);
  });
});

describe('limits', () => {
  it('applies the depth, cost and document limits of queries with the variables sent', async () => {
    const c = await connection();
    const nested = 'subscription ($n: Int) { PatientChanged { resource { ObservationList(_reference: subject, _count: $n) { subject { resource { ... on Patient { ObservationList(_reference: subject, _count: $n) { id } } } } } } } }';
    const [tooCostly] = await record(c, nested, { n: 1000 }).waitForFailure();
    expect(tooCostly.extensions.code).toBe('BAD_USER_INPUT');
    expect(tooCostly.message).toMatch(/resources; the limit is/);
    const fine = record(c, nested, { n: 2 });
    const deep = `subscription { PatientChanged { resource { ${'link { other { resource { ... on Patient { '.repeat(6)}id${' } } } }'.repeat(6)} } } }`;
    const [tooDeep] = await record(c, deep).waitForFailure();
    expect(tooDeep.extensions.code).toBe('BAD_USER_INPUT');
    expect(tooDeep.message).toMatch(/levels deep|nests selections/);
    const aliases = `subscription { PatientChanged { ${Array.from({ length: 101 }, (_, i) => `a${i}: id`).join(' ')} } }`;
    const [tooManyAliases] = await record(c, aliases).waitForFailure();
    expect(tooManyAliases.extensions.code).toBe('BAD_USER_INPUT');
    expect(tooManyAliases.message).toMatch(/aliases/);
    expect(fine.failures).toEqual([]);
  });

  it('gives criteria the REST search\'s checks and limits', async () => {
    const c = await connection();
    const cases: [string, RegExp][] = [
      ['nonsense=1', /nonsense/],
      ['_count=5', /_count/],
      [Array.from({ length: 101 }, (_, i) => `name=n${i}`).join('&'), /parameters|limit/],
      ['birthdate=not-a-date', /birthdate|date/],
    ];
    for (const [criteria, message] of cases) {
      const [error] = await record(c, 'subscription ($criteria: String) { PatientChanged(criteria: $criteria) { id } }', { criteria }).waitForFailure();
      expect(error.extensions.code, criteria).toBe('BAD_USER_INPUT');
      expect(error.message, criteria).toMatch(message);
    }
  });

  it('refuses queries and mutations over the WebSocket, pointing to POST /graphql', async () => {
    const [error] = await record(await connection(), '{ PatientList { id } }').waitForFailure();
    expect(error.extensions.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/POST \/graphql/);
  });

  it('refuses a start beyond WS_MAX_SUBSCRIPTIONS on one connection, and takes one again after a complete', async () => {
    const c = await connection();
    const subs = Array.from({ length: 5 }, () => record(c, 'subscription { PatientChanged { id } }'));
    const extra = record(c, 'subscription { PatientChanged { id } }');
    const [error] = await extra.waitForFailure();
    expect(error.extensions.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    expect(subs.every((s) => s.failures.length === 0)).toBe(true);
    subs[0].unsubscribe();
    const since = await head();
    const again = record(c, 'subscription ($since: String) { PatientChanged(since: $since) { id } }', { since });
    const id = await create({ resourceType: 'Patient' });
    await again.waitFor((d) => d.PatientChanged.id === id);
  });

  it('charges each start to the client\'s rate limit', async () => {
    const c = await connection(await t.tokenWithScope('system/Patient.rs', { rate: '1/s,2/min' }));
    const starts = [];
    for (let i = 0; i < 5; i++) starts.push(record(c, 'subscription { PatientChanged { id } }'));
    const refused = await Promise.race(starts.map((s) => s.waitForFailure()));
    expect(refused[0].extensions.code).toBe('TOO_MANY_REQUESTS');
  });
});

describe('audit', () => {
  it('records each start and end as an AuditEvent naming the client, the field, and what was delivered', async () => {
    const client = await t.createClient({ name: 'audited subscriber', scope: 'system/Patient.rs' });
    const c = await connection(await t.tokenFor(client.refresh_token!));
    const since = await head();
    const sub = record(c, 'subscription ($since: String) { PatientChanged(since: $since) { id } }', { since });
    const id = await create({ resourceType: 'Patient' });
    await sub.waitFor((d) => d.PatientChanged.id === id);
    await record(c, 'subscription { ObservationChanged { id } }').waitForFailure();
    await c.dispose();
    const events = async () => {
      await t.server.security.auditLog.flush();
      const res = await fhirFetch(`${t.url}/fhir/AuditEvent?subtype=subscription-start,subscription-end&_count=1000`);
      expect(res.status, res.text).toBe(200);
      return (res.body.entry ?? []).map((e: any) => e.resource).filter((e: any) => e.agent[0].who.identifier?.value === client.client_id);
    };
    let found: any[] = [];
    for (let i = 0; i < 50 && found.length < 3; i++) {
      found = await events();
      if (found.length < 3) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const summary = found.map((e) => `${e.subtype[0].code} ${e.outcome} ${e.outcomeDesc}`).sort();
    expect(summary).toEqual([
      expect.stringMatching(/^subscription-end 0 200 PatientChanged: 1 events delivered; connection closed/),
      expect.stringMatching(/^subscription-start 0 200 PatientChanged$/),
      expect.stringMatching(/^subscription-start 4 403 ObservationChanged: FORBIDDEN/),
    ]);
    const end = found.find((e) => e.subtype[0].code === 'subscription-end');
    expect(end.entity.map((e: any) => e.what.reference)).toEqual([`Patient/${id}`]);
  });
});

/**
 * Issue 16, part 2: what happens to subscription connections over time, against real processes.
 * A subscriber on one server process receives changes committed through another; `npx fhirgraph
 * clients disable` closes the client's sockets with 4401 (within about a second, through the auth
 * state's notifications), and so does revoking its access token; a token that expires closes its socket with 4401, and the client goes on
 * with a new token and `since`; a client that reads too slowly is closed with 1013 instead of
 * being buffered without limit (`WS_MAX_QUEUED_EVENTS`); connections per client are capped (4429); a cursor older than
 * the feed keeps is refused with `CURSOR_EXPIRED`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFeed } from '../helpers/feed-recorder.ts';
import { connect, record, type WsConnection } from '../helpers/subscription-client.ts';
import { type ServerProcess, startServerProcess, stopServerProcess } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const run = promisify(execFile);
let db: TestDatabase;
let a: TestServer;
let b: ServerProcess | undefined;
const open: WsConnection[] = [];



async function connection(url: string, token: string): Promise<WsConnection> {
  const c = await connect(url, token);
  open.push(c);
  return c;
}

async function createPatient(url: string, family: string, token = a.adminToken): Promise<string> {
  const res = await fhirFetch(`${url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family }] }, token });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms))]);
}

const QUERY = 'subscription ($since: String) { PatientChanged(since: $since) { id cursor } }';

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startTestServer({ websocket: { maxSubscriptions: 20, maxConnectionsPerClient: 2, maxQueuedEvents: 50, maxBufferBytes: 16 * 1024 * 1024 } }, db);
}, 120_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.dispose()));
  if (b) await stopServerProcess(b);
  await a?.close();
  await db?.drop();
});

describe('across server processes', () => {
  it('delivers a change committed through process B to a subscriber on process A, and the other way round', async () => {
    b = await startServerProcess(db.databaseUrl, { PUBLIC_URL: a.config.publicUrl });
    const since = await a.server.changes.feed.headCursor();
    const onA = record(await connection(a.url, a.adminToken), QUERY, { since });
    const onB = record(await connection(b.url, a.adminToken), QUERY, { since });
    const fromB = await createPatient(b.url, 'FromB');
    const fromA = await createPatient(a.url, 'FromA');
    await onA.waitFor((d) => d.PatientChanged.id === fromA);
    await onB.waitFor((d) => d.PatientChanged.id === fromA);
    expect(onA.data.map((d) => d.PatientChanged.id)).toEqual([fromB, fromA]);
    expect(onB.data.map((d) => d.PatientChanged.id)).toEqual([fromB, fromA]);
  }, 90_000);
});

describe('the token of an open connection', () => {
  it('closes every socket of a client with 4401 soon after `npx fhirgraph clients disable`', async () => {
    const client = await a.createClient({ name: 'to be disabled', scope: 'system/Patient.rs' });
    const token = await a.tokenFor(client.refresh_token!);
    const c = await connection(a.url, token);
    const sub = record(c, QUERY, { since: await a.server.changes.feed.headCursor() });
    const before = await createPatient(a.url, 'BeforeDisable');
    await sub.waitFor((d) => d.PatientChanged.id === before);
    const { stdout } = await run(process.execPath, ['bin/fhirgraph.js', 'clients', 'disable', client.client_id], { env: { ...process.env, DATABASE_URL: a.databaseUrl } });
    expect(JSON.parse(stdout)).toEqual({ client_id: client.client_id, status: 'disabled' });
    // The auth state hears the CLI's NOTIFY (or its 1 s poll) and every socket of the client is
    // checked again: about a second at most; the window here allows for a loaded machine.
    const closed = await within(c.closed, 3_000, 'the close');
    expect(closed).toEqual({ code: 4401, reason: expect.stringMatching(/disabled/) });
    const after = await createPatient(a.url, 'AfterDisable');
    const marker = record(await connection(a.url, a.adminToken), QUERY, { since: sub.data[0].PatientChanged.cursor });
    await marker.waitFor((d) => d.PatientChanged.id === after);
    expect(sub.data.map((d) => d.PatientChanged.id)).toEqual([before]);
  });

  it('closes the socket of a revoked access token with 4401 (RFC 7009 /auth/revoke)', async () => {
    const token = await a.tokenWithScope('system/Patient.rs');
    const c = await connection(a.url, token);
    const revoked = await fetch(`${a.url}/auth/revoke`, { method: 'POST', body: new URLSearchParams({ token }) });
    expect(revoked.status).toBe(200);
    expect(await within(c.closed, 3_000, 'the close')).toEqual({ code: 4401, reason: expect.stringMatching(/revoked/) });
  });

  it('closes with 4401 when the token expires; the client reconnects with a new token and since, missing nothing', async () => {
    const client = await a.createClient({ name: 'short tokens', scope: 'system/Patient.rs' });
    const short = await a.server.security.tokens.issue(client.client_id, 'system/Patient.rs', 2);
    const c = await connection(a.url, short.token);
    const sub = record(c, QUERY, { since: await a.server.changes.feed.headCursor() });
    const first = await createPatient(a.url, 'BeforeExpiry');
    await sub.waitFor((d) => d.PatientChanged.id === first);
    const closed = await within(c.closed, 10_000, 'the close at expiry');
    expect(closed).toEqual({ code: 4401, reason: expect.stringMatching(/expired/) });
    const missed = await createPatient(a.url, 'WhileAway');
    const resumed = record(await connection(a.url, await a.tokenFor(client.refresh_token!)), QUERY, { since: sub.data[sub.data.length - 1].PatientChanged.cursor });
    await resumed.waitFor((d) => d.PatientChanged.id === missed);
    expect(resumed.data.map((d) => d.PatientChanged.id)).toEqual([missed]);
  });
});

describe('limits of a connection', () => {
  it('closes a client that reads too slowly with 1013 once a subscription holds WS_MAX_QUEUED_EVENTS for it, never buffering without limit', async () => {
    const client = await a.createClient({ name: 'slow reader', scope: 'system/Patient.rs' });
    const slow = await connection(a.url, await a.tokenFor(client.refresh_token!));
    const since = await a.server.changes.feed.headCursor();
    const sub = record(slow, 'subscription ($since: String) { PatientChanged(since: $since) { id resource { name { text } } } }', { since });
    const first = await createPatient(a.url, 'First');
    await sub.waitFor((d) => d.PatientChanged.id === first);
    // The client stops reading: the kernel's buffers fill, then events wait in the server's stream.
    slow.socket().pause();
    const witness = await recordFeed(a.server.changes.feed, { after: since });
    const text = 'x'.repeat(50_000);
    let last = '';
    try {
      for (let bundle = 0; bundle < 10; bundle++) {
        const res = await fhirFetch(`${a.url}/fhir`, { method: 'POST', body: {
          resourceType: 'Bundle', type: 'batch',
          entry: Array.from({ length: 20 }, () => ({ resource: { resourceType: 'Patient', name: [{ text }] }, request: { method: 'POST', url: 'Patient' } })),
        } });
        expect(res.status, res.text.slice(0, 300)).toBe(200);
        last = /Patient\/([^/]+)\/_history/.exec(res.body.entry[19].response.location)![1];
      }
      // The feed hands an event to every subscriber of the process in one pass: once this one has
      // the last event, the slow subscription has been given it too.
      await witness.waitFor((e) => e.id === last, 30_000);
    } finally {
      witness.close();
    }
    slow.socket().resume();
    const closed = await within(slow.closed, 30_000, 'the close');
    expect(closed).toEqual({ code: 1013, reason: expect.stringMatching(/Slow consumer/) });
    expect(sub.data.length).toBeLessThan(201);
  }, 120_000);

  it('lets a client resume over more events than WS_MAX_QUEUED_EVENTS: catching up reads pages within it', async () => {
    const since = await a.server.changes.feed.headCursor();
    const res = await fhirFetch(`${a.url}/fhir`, { method: 'POST', body: {
      resourceType: 'Bundle', type: 'batch',
      entry: Array.from({ length: 150 }, (_, i) => ({ resource: { resourceType: 'Patient', name: [{ family: `Backlog${i}` }] }, request: { method: 'POST', url: 'Patient' } })),
    } });
    expect(res.status).toBe(200);
    const c = await connection(a.url, await a.tokenWithScope('system/Patient.rs'));
    const sub = record(c, QUERY, { since });
    // A change while it catches up: the live fan-out hands it over at once.
    const live = await createPatient(a.url, 'WhileCatchingUp');
    await Promise.race([sub.waitFor((d) => d.PatientChanged.id === live, 30_000), c.closed.then((close) => { throw new Error(`closed: ${JSON.stringify(close)}`); })]);
    expect(sub.data).toHaveLength(151);
    expect(sub.failures).toEqual([]);
  });

  it('refuses a connection beyond WS_MAX_CONNECTIONS_PER_CLIENT with 4429, and takes one again after a close', async () => {
    const client = await a.createClient({ name: 'many sockets', scope: 'system/Patient.rs' });
    const token = await a.tokenFor(client.refresh_token!);
    const [one] = [await connection(a.url, token), await connection(a.url, token)];
    const third = await connection(a.url, token);
    expect(await third.closed).toEqual({ code: 4429, reason: expect.stringMatching(/Too many connections/) });
    await one.dispose();
    await one.closed;
    // The server counts the close once it has seen it: the next connection is accepted.
    let again: WsConnection | undefined;
    for (let i = 0; i < 50 && !again; i++) {
      const attempt = await connection(a.url, token);
      const refused = await Promise.race([attempt.closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200))]);
      if (refused) await new Promise((resolve) => setTimeout(resolve, 50));
      else again = attempt;
    }
    expect(again).toBeDefined();
  });
});

describe('expired cursors', () => {
  it('refuses since a cursor whose events retention has pruned, with CURSOR_EXPIRED', async () => {
    const t = await startTestServer({ changes: { retentionMs: 1_000, pollMs: 1_000 } });
    try {
      const since = await t.server.changes.feed.headCursor();
      await createPatient(t.url, 'Old', t.adminToken);
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // older than CHANGE_RETENTION now
      await t.server.changes.retention.prune();
      const c = await connect(t.url, t.adminToken);
      try {
        const [error] = await record(c, QUERY, { since }).waitForFailure();
        expect(error.extensions.code).toBe('CURSOR_EXPIRED');
        expect(error.message).toMatch(/CHANGE_RETENTION/);
      } finally {
        await c.dispose();
      }
    } finally {
      await t.close();
    }
  });
});

/**
 * Retention of the change feed: events older than `CHANGE_RETENTION` are pruned, never past the
 * lowest durable cursor, and resuming from a pruned position is refused with `CursorExpired`
 * (never a silent gap); positions are never reused after pruning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CursorExpired, deleteDurableCursor, loadDurableCursor, saveDurableCursor, type ChangeEvent, type ChangeFeed,
} from '../../src/changes/index.ts';
import { loadConfig } from '../../src/config.ts';
import { recordFeed } from '../helpers/feed-recorder.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let feed: ChangeFeed;
const RETENTION_MS = 2_000;

beforeAll(async () => {
  t = await startTestServer({ changes: { retentionMs: RETENTION_MS, pollMs: 1_000 } });
  feed = t.server.changes.feed;
});
afterAll(async () => { await t?.close(); });

async function createPatients(count: number): Promise<ChangeEvent[]> {
  const recorder = await recordFeed(feed);
  try {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const res = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: `Old${i}` }] } });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    return await Promise.all(ids.map((id) => recorder.waitFor((e) => e.id === id)));
  } finally {
    recorder.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('change feed retention', () => {
  it('prunes old events up to the lowest durable cursor only, and refuses to resume from a pruned position', async () => {
    const db = t.server.service.db;
    const start = await feed.headCursor();
    await saveDurableCursor(db, 'test-dispatcher', start); // holds everything after `start` back
    expect(await loadDurableCursor(db, 'test-dispatcher')).toBe(start);
    const [e1, e2, e3] = await createPatients(3);
    await sleep(RETENTION_MS + 500); // all three are now older than the retention

    await t.server.changes.retention.prune();
    expect((await feed.readAfter(start, 10)).events.map((e) => e.id)).toEqual([e1.id, e2.id, e3.id]);

    await saveDurableCursor(db, 'test-dispatcher', e1.cursor); // the dispatcher has delivered e1
    await t.server.changes.retention.prune();
    await expect(feed.readAfter(start, 10)).rejects.toBeInstanceOf(CursorExpired);
    await expect(feed.subscribe({ after: start, onEvents: () => undefined })).rejects.toMatchObject({ status: 410, code: 'CURSOR_EXPIRED' });
    expect((await feed.readAfter(e1.cursor, 10)).events.map((e) => e.id)).toEqual([e2.id, e3.id]);

    await deleteDurableCursor(db, 'test-dispatcher');
    await t.server.changes.retention.prune();
    await expect(feed.readAfter(e1.cursor, 10)).rejects.toBeInstanceOf(CursorExpired);
    await expect(feed.readAfter(e2.cursor, 10)).rejects.toBeInstanceOf(CursorExpired);
    expect((await feed.readAfter(e3.cursor, 10)).events).toEqual([]);
    const remaining = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM change_event WHERE position <= $1', [e3.position]);
    expect(remaining[0].n).toBe(0);

    // The feed goes on after the table emptied: the next event takes the next position.
    const [e4] = await createPatients(1);
    expect(e4.position).toBe(e3.position + 1);
  });

  it('keeps events younger than the retention', async () => {
    const [recent] = await createPatients(1);
    await t.server.changes.retention.prune();
    const before = await feed.readAfter(null, 10);
    expect(before.events.map((e) => e.id)).toContain(recent.id);
  });

  it('refuses a cursor that is not one of the feed (400) and reads CHANGE_RETENTION as 7d, 24h, 30m, 90s or seconds', async () => {
    await expect(feed.readAfter('not-a-cursor', 10)).rejects.toMatchObject({ status: 400 });
    await expect(feed.subscribe({ after: 'ZmMxOjk5OTk5OTk5', onEvents: () => undefined })).rejects.toMatchObject({ status: 400 });
    const retention = (value: string) => loadConfig({ CHANGE_RETENTION: value }).changes.retentionMs;
    expect(loadConfig({}).changes.retentionMs).toBe(7 * 86_400_000);
    expect(retention('7d')).toBe(7 * 86_400_000);
    expect(retention('24h')).toBe(86_400_000);
    expect(retention('30m')).toBe(1_800_000);
    expect(retention('90s')).toBe(90_000);
    expect(retention('3600')).toBe(3_600_000);
    expect(() => retention('a week')).toThrow(/CHANGE_RETENTION/);
    expect(() => retention('0')).toThrow(/CHANGE_RETENTION/);
  });
});

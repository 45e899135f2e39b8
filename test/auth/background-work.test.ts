/**
 * Review 1, #7: background work ran inside the request that happened to trigger it. The rate
 * limiter's next round is brought forward from inside a request (a key new to the process), and
 * its timer inherited the handler's async context: the round's statements took that request's
 * connection slots (with the slot held, no round ran for 1.5 s), its statement timeout, and were
 * cancelled when its client went away. The same held for an auth-state refresh or announcement
 * and an audit flush started from a handler. Background rounds now run outside any request scope.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthState } from '../../src/auth/auth-state.ts';
import { createClient } from '../../src/auth/client-admin.ts';
import { RateLimiter } from '../../src/auth/rate-limiter.ts';
import { AuditLog } from '../../src/service/audit/audit-log.ts';
import { ConnectionSlots } from '../../src/store/connection-slots.ts';
import { Database } from '../../src/store/database.ts';
import { disableClient } from '../../src/store/oauth-repository.ts';
import { runInQueryScope, type QueryScope } from '../../src/store/query-scope.ts';
import { ScopeCancel } from '../../src/store/scope-cancel.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

let testDb: TestDatabase;
let db: Database;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await Database.open(testDb.databaseUrl, { migrate: false, poolSize: 4 });
});
afterAll(async () => {
  await db?.close();
  await testDb?.drop();
});

/** A request's scope whose one connection slot is taken (a slow search) for as long as the test runs. */
async function busyScope(): Promise<{ scope: QueryScope; release: () => void }> {
  const cancel = new ScopeCancel();
  const connections = new ConnectionSlots(1);
  await connections.take(cancel.signal, () => new Error('gone'));
  return { scope: { cancel, statementTimeoutMs: 0, connections, ended: false }, release: () => connections.give() };
}

/** `promise`, or a rejection once `ms` have passed. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms))]);
}

/** A request's scope whose client has gone. */
function abandonedScope(): QueryScope {
  const cancel = new ScopeCancel();
  cancel.abort();
  return { cancel, statementTimeoutMs: 0, connections: new ConnectionSlots(2), ended: false };
}

describe('background work started from a request', () => {
  it('runs the rate limiter round a request brought forward while that request still holds its only connection slot', async () => {
    const errors: unknown[] = [];
    const limiter = new RateLimiter(db, { onError: (err) => errors.push(err) });
    limiter.start();
    const rows = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM rate_limit_counter WHERE key = 'client:busy'`))[0].n;
    try {
      limiter.consume('warm', { perSecond: 0, perMinute: 6_000 });
      await sleep(300); // the first rounds, outside any request
      const { scope, release: freeSlot } = await busyScope();
      let release!: () => void;
      const request = runInQueryScope(scope, async () => {
        limiter.consume('client:busy', { perSecond: 0, perMinute: 6_000 }); // a key new here: a round follows at once
        await new Promise<void>((resolve) => { release = resolve; });
      });
      // The request holds its slot until released below: a round queued behind it would never
      // come (how soon the round comes, ~10 ms, is the limiter's scheduling, not this behaviour).
      let seen = 0;
      await vi.waitFor(async () => {
        seen = await rows();
        expect(seen).toBeGreaterThan(0);
      }, { timeout: 20_000, interval: 20 }).catch(() => undefined);
      release();
      await request;
      freeSlot();
      expect(errors).toEqual([]);
      expect(seen).toBeGreaterThan(0);
    } finally {
      await limiter.stop();
    }
    expect(errors).toEqual([]);
  });

  it('keeps running limiter rounds after the request that brought one forward has lost its client', async () => {
    const errors: unknown[] = [];
    const limiter = new RateLimiter(db, { onError: (err) => errors.push(err) });
    limiter.start();
    try {
      await runInQueryScope(abandonedScope(), async () => {
        limiter.consume('client:gone', { perSecond: 0, perMinute: 6_000 });
        await sleep(300);
      });
      const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM rate_limit_counter WHERE key = 'client:gone'`);
      expect(errors).toEqual([]);
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      await limiter.stop();
    }
  });

  it('finishes an auth-state refresh and announcement a request starts, whatever becomes of that request', async () => {
    const errors: unknown[] = [];
    const state = new AuthState(db, (err) => errors.push(err));
    await state.start();
    try {
      const { client_id: clientId } = await createClient(db, { name: 'to disable', scope: 'system/*.read' });
      expect((await state.client(clientId))?.status).toBe('active');
      await disableClient(db, clientId); // without the NOTIFY: only a refresh can learn of it
      const { scope, release } = await busyScope();
      try {
        await within(1_000, runInQueryScope(scope, () => state.announce()));
      } finally {
        release();
      }
      await runInQueryScope(abandonedScope(), () => state.refresh());
      expect(errors).toEqual([]);
      expect((await state.client(clientId))?.status).toBe('disabled');
    } finally {
      await state.stop();
    }
  });

  it('stores the audit events of a flush started by a request whose client has gone', async () => {
    const errors: unknown[] = [];
    const log = new AuditLog(db, (err) => errors.push(err));
    const count = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event`))[0].n;
    const before = await count();
    log.enqueue({ action: 'R', interaction: 'read', clientId: 'c', ip: '127.0.0.1', status: 200, entities: [], recorded: new Date() });
    await runInQueryScope(abandonedScope(), () => log.flush());
    expect(errors).toEqual([]);
    expect(log.dropped).toBe(0);
    expect(await count()).toBe(before + 1);
  });
});

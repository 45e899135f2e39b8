import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RateLimiter, rateLimitHeaders, type RateLimit } from '../../src/auth/rate-limiter.ts';
import type { Queryable } from '../../src/store/database.ts';
import type { CounterDatabase } from '../../src/store/rate-limit-repository.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

let db: TestDatabase;
const pools: pg.Pool[] = [];

/** A pool of its own per limiter, as two server processes would have; counts the statements it runs. */
function openQueryable(): CounterDatabase & { queries: number; answered: number } {
  const pool = new pg.Pool({ connectionString: db.databaseUrl, max: 2 });
  // An idle client terminated by the final DROP DATABASE … WITH (FORCE) must not become an
  // uncaught exception (pg emits it on the pool); regression for a flaky CI run.
  pool.on('error', () => undefined);
  pools.push(pool);
  const counted = {
    queries: 0,
    /** Calls (a query, or a whole transaction) whose answer has come back. */
    answered: 0,
    async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
      counted.queries += 1;
      const rows = (await pool.query<R>(sql, params)).rows;
      counted.answered += 1;
      return rows;
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const value = await work({
          async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
            counted.queries += 1;
            return (await client.query<R>(sql, params)).rows;
          },
        });
        await client.query('COMMIT');
        counted.answered += 1;
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };
  return counted;
}

const failing: CounterDatabase = {
  async query() {
    throw new Error('connection refused');
  },
  async transaction() {
    throw new Error('connection refused');
  },
};

/** A clock the test moves by hand, starting 300 ms into a minute. */
function fakeClock(): { now: () => number; advance(ms: number): void } {
  let time = Date.UTC(2026, 0, 1, 12, 0, 0, 300);
  return { now: () => time, advance: (ms) => { time += ms; } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await db?.drop();
});

describe('RateLimiter', () => {
  const tenPerSecond: RateLimit = { perSecond: 10, perMinute: 0 };

  it('allows up to the per-second limit, then refuses with Retry-After until the next second', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(failing, { now: clock.now });
    const remaining: number[] = [];
    for (let i = 0; i < 10; i++) {
      const decision = limiter.consume('client-a', tenPerSecond);
      expect(decision.allowed).toBe(true);
      remaining.push(decision.remaining);
    }
    expect(remaining).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const refused = limiter.consume('client-a', tenPerSecond);
    expect(refused).toEqual({ allowed: false, limit: 10, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1 });
    expect(limiter.consume('client-b', tenPerSecond).allowed).toBe(true);

    clock.advance(700);
    expect(limiter.consume('client-a', tenPerSecond)).toMatchObject({ allowed: true, remaining: 9 });
  });

  it('refuses past the per-minute limit until the minute ends, whatever the per-second room', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(failing, { now: clock.now });
    const limit: RateLimit = { perSecond: 3, perMinute: 5 };
    expect(limiter.consume('c', limit)).toMatchObject({ allowed: true, limit: 3, remaining: 2, resetSeconds: 1 });
    limiter.consume('c', limit);
    // Two left in the minute, one left in the second: the second is the tighter.
    expect(limiter.consume('c', limit)).toMatchObject({ allowed: true, limit: 3, remaining: 0 });
    clock.advance(1_000);
    expect(limiter.consume('c', limit)).toMatchObject({ allowed: true, limit: 5, remaining: 1, resetSeconds: 59 });
    expect(limiter.consume('c', limit)).toMatchObject({ allowed: true, limit: 5, remaining: 0 });
    clock.advance(20_000);
    expect(limiter.consume('c', limit)).toEqual({ allowed: false, limit: 5, remaining: 0, resetSeconds: 39, retryAfterSeconds: 39 });
    clock.advance(39_000);
    expect(limiter.consume('c', limit)).toMatchObject({ allowed: true, limit: 3, remaining: 2 });
  });

  it('does not limit a window whose limit is 0, and sends no fields then', () => {
    const limiter = new RateLimiter(failing);
    const decision = limiter.consume('c', { perSecond: 0, perMinute: 0 });
    expect(decision.allowed).toBe(true);
    expect(rateLimitHeaders(decision)).toEqual({});
  });

  it('renders the RateLimit fields, and Retry-After only on a refusal', () => {
    expect(rateLimitHeaders({ allowed: true, limit: 10, remaining: 4, resetSeconds: 1 })).toEqual({
      'RateLimit-Limit': '10', 'RateLimit-Remaining': '4', 'RateLimit-Reset': '1',
    });
    expect(rateLimitHeaders({ allowed: false, limit: 600, remaining: 0, resetSeconds: 42, retryAfterSeconds: 42 })).toEqual({
      'RateLimit-Limit': '600', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '42', 'Retry-After': '42',
    });
  });

  it("learns another process's use at its next sync; quota one process claimed stays with it", async () => {
    const clock = fakeClock();
    const a = new RateLimiter(openQueryable(), { now: clock.now });
    const b = new RateLimiter(openQueryable(), { now: clock.now });
    for (let i = 0; i < 7; i++) expect(a.consume('shared', tenPerSecond).allowed).toBe(true);
    expect(b.consume('shared', tenPerSecond)).toMatchObject({ allowed: true, remaining: 9 });
    await a.sync(); // A, busy and alone so far, claims the 3 left
    await b.sync(); // B learns of A's 7 used and 10 claimed
    await a.sync();
    expect(b.consume('shared', tenPerSecond)).toEqual({ allowed: false, limit: 10, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1 });
    expect(a.consume('shared', tenPerSecond)).toMatchObject({ allowed: true, remaining: 1 });
    expect(a.consume('shared', tenPerSecond)).toMatchObject({ allowed: true, remaining: 0 });
    expect(a.consume('shared', tenPerSecond)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(1_000);
    expect(b.consume('shared', tenPerSecond).allowed).toBe(true);
  });

  it('splits what is left between two processes that sync at the same moment', async () => {
    const clock = fakeClock();
    clock.advance(500); // 800 ms into the second: the next one is claimed ahead
    const limiters = [new RateLimiter(openQueryable(), { now: clock.now }), new RateLimiter(openQueryable(), { now: clock.now })];
    const syncAll = () => Promise.all(limiters.map((limiter) => limiter.sync()));
    for (const limiter of limiters) limiter.consume('split', tenPerSecond);
    await syncAll();
    await syncAll();
    clock.advance(300);
    const accepted = [0, 0];
    for (let round = 0; round < 6; round++) {
      limiters.forEach((limiter, i) => {
        for (let tries = 0; tries < 20 && limiter.consume('split', tenPerSecond).allowed; tries++) accepted[i] += 1;
      });
      await syncAll();
    }
    expect(accepted[0] + accepted[1]).toBe(10);
    expect(Math.min(...accepted)).toBeGreaterThanOrEqual(4);
  });

  it('keeps two processes together to about 10 a second when each is asked 40 times a second', async () => {
    // On a clock the test moves: each process is asked every 25 ms (B 10 ms after A) and runs its
    // rounds as its timer does (every 100 ms, B half a period after A, and one right after a key
    // is new to it), so the figures do not depend on how busy the machine is.
    const errors: unknown[] = [];
    const clock = fakeClock();
    clock.advance(700); // at the start of a second
    const a = new RateLimiter(openQueryable(), { now: clock.now, onError: (err) => errors.push(err) });
    const b = new RateLimiter(openQueryable(), { now: clock.now, onError: (err) => errors.push(err) });
    const start = clock.now();
    const accepted = new Map<number, number>();
    const ask = (limiter: RateLimiter) => {
      if (!limiter.consume('busy-client', tenPerSecond).allowed) return;
      const second = Math.floor((clock.now() - start) / 1000);
      accepted.set(second, (accepted.get(second) ?? 0) + 1);
    };
    for (let t = 0; t < 3_000; t += 5) {
      if (t % 25 === 0) ask(a);
      if (t % 25 === 10) ask(b);
      const rounds: Promise<void>[] = [];
      if (t % 100 === 20 || t === 10) rounds.push(a.sync());
      if (t % 100 === 70 || t === 20) rounds.push(b.sync());
      await Promise.all(rounds);
      clock.advance(5);
    }
    const perSecond = [0, 1, 2].map((i) => accepted.get(i) ?? 0);
    console.log(`[rate-limiter] accepted per second across both instances: ${perSecond.join(', ')}`);
    expect(errors).toEqual([]);
    for (const count of perSecond) {
      expect(count).toBeGreaterThanOrEqual(8);
      expect(count).toBeLessThanOrEqual(10);
    }
  });

  it('lets a process alone on a key take a burst up to the limit, not just what it claimed', async () => {
    const clock = fakeClock();
    const limit: RateLimit = { perSecond: 20, perMinute: 0 };
    // What the rounds that follow a new key cost, run by hand: the reference for the timer's.
    const byHand = openQueryable();
    const reference = new RateLimiter(byHand, { now: clock.now });
    reference.consume('alone-by-hand', limit);
    await reference.sync();
    await reference.sync();
    // The timer's own rounds, brought forward by the new key (the interval alone is a minute away).
    const queryable = openQueryable();
    const limiter = new RateLimiter(queryable, { now: clock.now, syncIntervalMs: 60_000 });
    limiter.start();
    try {
      limiter.consume('alone', limit);
      // Wait for the answers, not the sends: a round whose last statement is still in flight has
      // not applied its claim yet (a CI run on a loaded machine saw 2 of 19 that way).
      await vi.waitFor(() => expect(queryable.answered).toBeGreaterThanOrEqual(byHand.answered), { timeout: 20_000, interval: 20 });
      const burst = Array.from({ length: 30 }, () => limiter.consume('alone', limit));
      expect(burst.filter((decision) => decision.allowed)).toHaveLength(19);
    } finally {
      await limiter.stop();
    }
  });

  it("admits a request's arrival beyond its process's claim after asking the table, when the limit has room", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(openQueryable(), { now: clock.now });
    const limit = { perSecond: 200, perMinute: 6_000 };
    for (let i = 0; i < 3; i++) expect((await limiter.consumeArrival('fresh', limit)).allowed).toBe(true);
    await limiter.sync(); // the first round claims about twice the recent demand, not the whole limit
    const burst = await Promise.all(Array.from({ length: 30 }, () => limiter.consumeArrival('fresh', limit)));
    expect(burst.filter((decision) => !decision.allowed)).toEqual([]);
    // The table still bounds it: another process that claimed the rest of the second refuses it.
    const other = new RateLimiter(openQueryable(), { now: clock.now });
    expect(await other.consumeWork('fresh', limit, 170)).toMatchObject({ allowed: false });
  });

  it('deletes windows that ended over two minutes ago when it syncs', async () => {
    const queryable = openQueryable();
    const clock = fakeClock();
    const old = clock.now() - 180_000;
    await queryable.query(
      `INSERT INTO rate_limit_counter (key, window_size, window_start, owner, count, claim) VALUES ('gone', 1, $1, 'p', 1, 1)`,
      [old],
    );
    const errors: unknown[] = [];
    const limiter = new RateLimiter(queryable, { now: clock.now, onError: (err) => errors.push(err) });
    limiter.consume('kept', tenPerSecond);
    await limiter.sync();
    expect(errors).toEqual([]);
    const rows = await queryable.query<{ key: string }>(`SELECT key FROM rate_limit_counter WHERE key IN ('gone', 'kept')`);
    expect(rows.map((row) => row.key)).toEqual(['kept']);
  });

  it('goes on counting locally when the database fails, reporting the failure', async () => {
    const errors: unknown[] = [];
    const limiter = new RateLimiter(failing, { now: fakeClock().now, onError: (err) => errors.push(err) });
    expect(limiter.consume('c', tenPerSecond).allowed).toBe(true);
    await expect(limiter.sync()).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(limiter.consume('c', tenPerSecond)).toMatchObject({ allowed: true, remaining: 8 });
    const throwingHandler = new RateLimiter(failing, { onError: () => { throw new Error('handler'); } });
    throwingHandler.consume('c', tenPerSecond);
    await expect(throwingHandler.stop()).resolves.toBeUndefined();
  });

  it('makes no query while idle, and stops querying once its keys go quiet', async () => {
    const queryable = openQueryable();
    const limiter = new RateLimiter(queryable, { syncIntervalMs: 20, activeMs: 200 });
    limiter.start();
    try {
      await sleep(150);
      expect(queryable.queries).toBe(0);
      limiter.consume('c', tenPerSecond);
      await vi.waitFor(() => expect(queryable.queries).toBeGreaterThan(0), { timeout: 20_000, interval: 20 });
      // Quiet once no query ran for 300 ms (15 rounds' time); then none for longer still.
      let settled = -1;
      await vi.waitFor(async () => {
        const before = queryable.queries;
        await sleep(300);
        expect(queryable.queries).toBe(before);
        settled = before;
      }, { timeout: 20_000, interval: 0 });
      await sleep(300);
      expect(queryable.queries).toBe(settled);
    } finally {
      await limiter.stop();
    }
  });

  describe('requests costing several units (issue 14, item 7)', () => {
    const smallSecond: RateLimit = { perSecond: 10, perMinute: 100 };
    let keys = 0;
    /** A key no other test has used (the tests share one table and one fake start time). */
    const freshKey = () => `work-${++keys}`;

    it('admits a request costing more than the per-second limit when the minute covers it, then refuses until its debt is paid', async () => {
      const clock = fakeClock(); // 300 ms into a second
      const limiter = new RateLimiter(openQueryable(), { now: clock.now });
      const key = freshKey();
      // 35 units: the 10 of this second, the next two seconds whole, and 5 of the third.
      expect(await limiter.consumeWork(key, smallSecond, 35)).toMatchObject({ allowed: true, remaining: 0 });
      expect(limiter.consume(key, smallSecond)).toMatchObject({ allowed: false, retryAfterSeconds: 3 });
      clock.advance(1_000);
      expect(limiter.consume(key, smallSecond)).toMatchObject({ allowed: false, retryAfterSeconds: 2 });
      clock.advance(1_000);
      expect(await limiter.consumeWork(key, smallSecond, 20)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
      clock.advance(1_000);
      // The third second starts with the 5 units carried over.
      await limiter.sync(); // single units keep to what this process claimed
      for (let i = 0; i < 5; i++) expect(limiter.consume(key, smallSecond).allowed).toBe(true);
      expect(limiter.consume(key, smallSecond)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    });

    it('refuses a request costing more than the whole largest window, saying what it costs, without Retry-After or a database round trip', async () => {
      const limiter = new RateLimiter(failing, { now: fakeClock().now });
      const perSecondOnly = await limiter.consumeWork('c', { perSecond: 5, perMinute: 0 }, 9_999, 1);
      expect(perSecondOnly).toMatchObject({ allowed: false, tooCostly: { cost: 10_000, limit: 5, windowSeconds: 1 } });
      expect(rateLimitHeaders(perSecondOnly)['Retry-After']).toBeUndefined();
      expect(await limiter.consumeWork('c', { perSecond: 200, perMinute: 6_000 }, 6_001)).toMatchObject({ allowed: false, tooCostly: { cost: 6_001, limit: 6_000, windowSeconds: 60 } });
      // A per-minute limit above 60 × the per-second one cannot be reached: a minute holds 60 seconds' worth.
      expect(await limiter.consumeWork('c', { perSecond: 10, perMinute: 1_000 }, 700)).toMatchObject({ allowed: false, tooCostly: { cost: 700, limit: 600, windowSeconds: 60 } });
      // Refusals of that kind cost nothing.
      expect(limiter.consume('c', { perSecond: 5, perMinute: 0 })).toMatchObject({ allowed: true, remaining: 4 });
    });

    it('admits a 1,000-unit request under the default limits, and a whole minute of them', async () => {
      const clock = fakeClock();
      const limiter = new RateLimiter(openQueryable(), { now: clock.now });
      const key = freshKey();
      const defaults: RateLimit = { perSecond: 200, perMinute: 6_000 };
      expect(limiter.consume(key, defaults).allowed).toBe(true);
      expect((await limiter.consumeWork(key, defaults, 999, 1)).allowed).toBe(true);
      let admitted = 1_000;
      for (let ms = 0; ms < 59_000; ms += 250) {
        clock.advance(250);
        if ((await limiter.consumeWork(key, defaults, 1_000)).allowed) admitted += 1_000;
      }
      expect(admitted).toBe(6_000);
    });

    it('refuses a request the minute cannot cover until the minute ends, and then admits it', async () => {
      const clock = fakeClock();
      const limiter = new RateLimiter(openQueryable(), { now: clock.now });
      const key = freshKey();
      for (let i = 0; i < 9; i++) {
        expect((await limiter.consumeWork(key, smallSecond, 10)).allowed).toBe(true);
        clock.advance(1_000);
      }
      expect(await limiter.consumeWork(key, smallSecond, 20)).toMatchObject({ allowed: false, limit: 100, retryAfterSeconds: 51 });
      clock.advance(51_000);
      expect((await limiter.consumeWork(key, smallSecond, 20)).allowed).toBe(true);
    });

    it('keeps a client sending requests of every size to its per-second and per-minute limits over time', async () => {
      const clock = fakeClock();
      const limiter = new RateLimiter(openQueryable(), { now: clock.now });
      const key = freshKey();
      const limit: RateLimit = { perSecond: 10, perMinute: 550 };
      const sizes = [1, 3, 25, 1, 12, 60, 2, 9, 40, 1];
      const admittedAt: Array<[number, number]> = [];
      const start = clock.now();
      for (let step = 0; step < 1_800; step++) { // three minutes, a request every 100 ms
        const units = sizes[step % sizes.length];
        if ((await limiter.consumeWork(key, limit, units)).allowed) admittedAt.push([clock.now() - start, units]);
        if (step % 5 === 0) await limiter.sync();
        clock.advance(100);
      }
      const within = (from: number, to: number) => admittedAt.filter(([at]) => at >= from && at < to).reduce((sum, [, units]) => sum + units, 0);
      for (let t = 1_000; t <= 180_000; t += 1_000) {
        // What was admitted before t never exceeds 10 a second plus the one request still being paid off.
        expect(within(0, t)).toBeLessThanOrEqual(10 * Math.ceil(t / 1_000) + 60);
      }
      for (const minute of [0, 1, 2]) expect(within(minute * 60_000 - 300, (minute + 1) * 60_000 - 300)).toBeLessThanOrEqual(550);
      expect(within(0, 180_000)).toBeGreaterThanOrEqual(1_400); // and it does get about that much
    });

    it('tells a second process of the debt through the database, so together they still keep the limit', async () => {
      const clock = fakeClock();
      clock.advance(500); // 800 ms into a second
      const a = new RateLimiter(openQueryable(), { now: clock.now });
      const b = new RateLimiter(openQueryable(), { now: clock.now });
      const key = freshKey();
      const limit: RateLimit = { perSecond: 10, perMinute: 200 };
      const syncBoth = () => Promise.all([a.sync(), b.sync()]);
      const second = Math.floor(clock.now() / 1_000);
      expect(b.consume(key, limit).allowed).toBe(true);
      await b.sync(); // B claims 3 of this second and 2 of the next
      // 35 units on A: what B left of this second and the next, then whole seconds until paid.
      expect((await a.consumeWork(key, limit, 35)).allowed).toBe(true);
      // Both sync every 100 ms and keep asking, as they do for a client in use.
      const admittedIn = new Map<number, number>();
      for (let step = 0; step < 50; step++) {
        for (const limiter of [a, b, a, b]) {
          if (limiter.consume(key, limit).allowed) admittedIn.set(Math.floor(clock.now() / 1_000), (admittedIn.get(Math.floor(clock.now() / 1_000)) ?? 0) + 1);
        }
        clock.advance(100);
        await syncBoth();
      }
      // While the debt lasts (the two seconds A took whole), neither admits anything.
      expect(admittedIn.get(second + 2) ?? 0).toBe(0);
      expect(admittedIn.get(second + 3) ?? 0).toBe(0);
      expect(admittedIn.get(second + 4) ?? 0).toBeGreaterThanOrEqual(8);
      // And no second ever held more than its 10, counting both processes' rows.
      const rows = await openQueryable().query<{ start: string; total: number }>(
        'SELECT window_start AS start, sum(count)::int AS total FROM rate_limit_counter WHERE key = $1 AND window_size = 1 GROUP BY 1 ORDER BY 1', [key],
      );
      expect(rows.length).toBeGreaterThanOrEqual(5);
      for (const row of rows) expect(row.total, `second ${row.start}`).toBeLessThanOrEqual(10);
    });

    it('admits a request of several units bigger than its claim after one claim round trip, and a later one within the claim without any', async () => {
      const clock = fakeClock();
      const queryable = openQueryable();
      const limiter = new RateLimiter(queryable, { now: clock.now });
      const key = freshKey();
      const defaults: RateLimit = { perSecond: 0, perMinute: 6_000 };
      expect(limiter.consume(key, defaults).allowed).toBe(true);
      await limiter.sync(); // claims 1 + twice the demand: 3 of the minute, not yet known to be alone
      expect(limiter.consume(key, defaults)).toMatchObject({ allowed: true });
      const before = queryable.queries;
      expect((await limiter.consumeWork(key, defaults, 999, 1)).allowed).toBe(true);
      expect(queryable.queries - before).toBe(3); // in one transaction: lock, read, write
      await limiter.sync(); // the claim follows the demand: twice the 1,000 just asked
      const after = queryable.queries;
      expect((await limiter.consumeWork(key, defaults, 100, 1)).allowed).toBe(true);
      expect(limiter.consume(key, defaults).allowed).toBe(true);
      expect(queryable.queries).toBe(after);
    });

    it('admits a request bigger than a fair share of the window from the quota no other process claimed', async () => {
      const clock = fakeClock();
      const a = new RateLimiter(openQueryable(), { now: clock.now });
      const b = new RateLimiter(openQueryable(), { now: clock.now });
      const key = freshKey();
      const limit: RateLimit = { perSecond: 0, perMinute: 6_000 };
      for (let round = 0; round < 3; round++) {
        expect(a.consume(key, limit).allowed).toBe(true);
        expect(b.consume(key, limit).allowed).toBe(true);
        await Promise.all([a.sync(), b.sync()]);
      }
      // Claims alone would give each process about half; a 5,000-unit request must still go through.
      expect((await a.consumeWork(key, limit, 5_000)).allowed).toBe(true);
      expect((await b.consumeWork(key, limit, 1_000)).allowed).toBe(false);
    });
  });

  describe('large requests on several processes (review 1, #6)', () => {
    const perMinute: RateLimit = { perSecond: 0, perMinute: 6_000 };
    let keys = 0;
    const freshKey = () => `shared-work-${++keys}`;

    /** Two processes that have served `key` together for a few rounds, so each knows of the other. */
    async function twoSyncedProcesses(key: string, limit: RateLimit, clock = fakeClock()) {
      const a = new RateLimiter(openQueryable(), { now: clock.now });
      const b = new RateLimiter(openQueryable(), { now: clock.now });
      for (let round = 0; round < 3; round++) {
        a.consume(key, limit);
        b.consume(key, limit);
        await Promise.all([a.sync(), b.sync()]);
        clock.advance(100);
      }
      return { a, b, clock };
    }

    it('admits only one of two 5,000-unit requests that two synced processes receive at the same moment for a 6,000-a-minute client', async () => {
      const key = freshKey();
      const { a, b } = await twoSyncedProcesses(key, perMinute);
      const [onA, onB] = await Promise.all([a.consumeWork(key, perMinute, 5_000), b.consumeWork(key, perMinute, 5_000)]);
      const admitted = [onA, onB].filter((decision) => decision.allowed).length;
      console.log(`[rate-limiter] two simultaneous 5,000-unit requests of a 6,000/min client: ${admitted} admitted`);
      expect(admitted).toBe(1);
      const refused = onA.allowed ? onB : onA;
      expect(refused).toMatchObject({ allowed: false, limit: 6_000 });
      expect(refused.retryAfterSeconds).toBeGreaterThan(50); // the minute's quota is spoken for: no point retrying before it ends
    });

    it('admits a large request refused for want of quota once the next minute starts, though both processes still serve the client', async () => {
      const key = freshKey();
      const { a, b, clock } = await twoSyncedProcesses(key, perMinute);
      expect((await b.consumeWork(key, perMinute, 4_000)).allowed).toBe(true);
      const refused = await a.consumeWork(key, perMinute, 3_000);
      expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 60 }); // 600 ms into the minute
      // Both keep serving the client (single requests, rounds every 100 ms) until the minute ends.
      while (clock.now() % 60_000 !== 0) {
        a.consume(key, perMinute);
        b.consume(key, perMinute);
        await Promise.all([a.sync(), b.sync()]);
        clock.advance(Math.min(1_000, 60_000 - (clock.now() % 60_000)));
      }
      clock.advance(50);
      expect((await a.consumeWork(key, perMinute, 3_000)).allowed).toBe(true);
    });

    it('never lets two processes together admit more than the limit in a window, whatever the sizes and however their rounds and claims interleave', async () => {
      const key = freshKey();
      const limit: RateLimit = { perSecond: 200, perMinute: 6_000 };
      const { a, b, clock } = await twoSyncedProcesses(key, limit);
      const start = clock.now();
      const sizes = [1, 1, 1, 4, 1, 30, 1, 250, 1, 1, 900, 12, 1, 2_500, 1, 60];
      const admitted: Array<{ at: number; units: number }> = [];
      let pick = 0;
      // As the server does: one unit on arrival, then the rest of the request's work.
      const ask = async (limiter: RateLimiter) => {
        const units = sizes[pick++ % sizes.length];
        const at = clock.now();
        if (!limiter.consume(key, limit).allowed) return;
        admitted.push({ at, units: 1 });
        if (units > 1 && (await limiter.consumeWork(key, limit, units - 1, 1)).allowed) admitted.push({ at, units: units - 1 });
      };
      for (let step = 0; step < 2_400; step++) { // two minutes in steps of 50 ms
        const work: Array<Promise<void>> = [ask(a), ask(b), ask(a), ask(b)];
        // Each syncs every 100 ms, now and then at the same moment as the other.
        if (step % 2 === 0 || step % 7 === 0) work.push(a.sync());
        if (step % 2 === 1 || step % 7 === 0) work.push(b.sync());
        await Promise.all(work);
        clock.advance(50);
      }
      const minuteOf = (at: number) => Math.floor(at / 60_000);
      const perMinuteTotals = new Map<number, number>();
      for (const { at, units } of admitted) perMinuteTotals.set(minuteOf(at), (perMinuteTotals.get(minuteOf(at)) ?? 0) + units);
      console.log(`[rate-limiter] units admitted per minute across two processes: ${[...perMinuteTotals.values()].join(', ')}`);
      for (const total of perMinuteTotals.values()) expect(total).toBeLessThanOrEqual(6_000 + 10);
      // The per-second limit holds over time too: what was admitted by t never exceeds 200 a
      // second since the start, plus the one large request still being paid off.
      for (let t = start + 1_000; t <= clock.now(); t += 1_000) {
        const sum = admitted.filter(({ at }) => at < t).reduce((total, { units }) => total + units, 0);
        expect(sum, `by +${t - start} ms`).toBeLessThanOrEqual(200 * Math.ceil((t - start) / 1_000) + 2_500 + 10);
      }
      // And the client does get most of its limit.
      expect(admitted.reduce((total, { units }) => total + units, 0)).toBeGreaterThan(6_000);
    });
  });
});

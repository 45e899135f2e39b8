/**
 * The GraphQL operation gate: at most `limit` operations at once and at most `perClient` of one
 * client; waiting clients are served round-robin, so a client that has waited for nothing yet takes
 * the next free slot (review #4: one client's four slow operations held every slot); slots come back
 * on failure and when released early.
 */
import { describe, expect, it } from 'vitest';
import { OperationGate } from '../../src/graphql/operation-gate.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** An operation whose end the test decides. */
function held(gate: OperationGate, client: string, log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => { finish = resolve; });
  const result = gate.run(client, async () => {
    log.push(name);
    await done;
    return name;
  });
  return { finish, result };
}

describe('OperationGate', () => {
  it('runs at most limit operations at once, one client\'s in arrival order, and frees slots on failure', async () => {
    const gate = new OperationGate(2, 2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const op = (n: number, fail = false) => gate.run('a', async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(n);
      await tick();
      running--;
      if (fail) throw new Error(`op ${n} failed`);
      return n;
    });
    const results = await Promise.allSettled([op(1), op(2, true), op(3), op(4, true), op(5), op(6)]);
    expect(peak).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5, 6]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    // Every slot came back: a later burst still runs two at a time.
    peak = 0;
    await Promise.all([op(7), op(8), op(9)]);
    expect(peak).toBe(2);
  });

  it('runs at most perClient operations of one client, leaving the other slots to other clients', async () => {
    const gate = new OperationGate(4, 2);
    const log: string[] = [];
    const a = [1, 2, 3, 4].map((i) => held(gate, 'a', log, `a${i}`));
    await tick();
    expect(log).toEqual(['a1', 'a2']);
    const b = held(gate, 'b', log, 'b1');
    await tick();
    expect(log).toEqual(['a1', 'a2', 'b1']);
    b.finish();
    await b.result;
    a[0].finish();
    await tick();
    expect(log).toEqual(['a1', 'a2', 'b1', 'a3']);
    for (const op of a) op.finish();
    expect(await Promise.all(a.map((op) => op.result))).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('gives the next free slot to a client that has not been served, then serves waiting clients in turn', async () => {
    const gate = new OperationGate(2, 2);
    const log: string[] = [];
    const a = Array.from({ length: 6 }, (_, i) => held(gate, 'a', log, `a${i + 1}`));
    await tick();
    const b = [1, 2, 3].map((i) => held(gate, 'b', log, `b${i}`));
    await tick();
    const c = held(gate, 'c', log, 'c1');
    await tick();
    expect(log).toEqual(['a1', 'a2']);
    // One slot frees: the new clients go before a's queue, the one waiting longest since its last turn first.
    a[0].finish();
    await tick();
    expect(log).toEqual(['a1', 'a2', 'b1']);
    a[1].finish();
    await tick();
    expect(log).toEqual(['a1', 'a2', 'b1', 'c1']);
    b[0].finish();
    await tick();
    expect(log.at(-1)).toBe('a3');
    c.finish();
    await tick();
    expect(log.at(-1)).toBe('b2');
    for (const op of [...a, ...b]) op.finish();
    await Promise.all([...a, ...b, c].map((op) => op.result));
    expect(log).toHaveLength(10);
  });

  it('frees a slot released before the operation ends, once', async () => {
    const gate = new OperationGate(1, 1);
    const log: string[] = [];
    let release!: () => void;
    let finish!: () => void;
    const first = gate.run('a', async (free) => {
      release = free;
      await new Promise<void>((resolve) => { finish = resolve; });
    });
    await tick();
    const second = held(gate, 'b', log, 'b1');
    const third = held(gate, 'c', log, 'c1');
    await tick();
    expect(log).toEqual([]);
    release();
    release();
    await tick();
    expect(log).toEqual(['b1']);
    finish();
    await first;
    await tick();
    // The early release was the slot's only release: c still waits for b.
    expect(log).toEqual(['b1']);
    second.finish();
    await tick();
    expect(log).toEqual(['b1', 'c1']);
    third.finish();
    await Promise.all([second.result, third.result]);
  });
});

/** The GraphQL operation gate: at most `limit` at once, the rest in arrival order, slots freed on failure. */
import { describe, expect, it } from 'vitest';
import { OperationGate } from '../../src/graphql/operation-gate.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('OperationGate', () => {
  it('runs at most limit operations at once, in arrival order, and frees slots on failure', async () => {
    const gate = new OperationGate(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const op = (n: number, fail = false) => gate.run(async () => {
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
});

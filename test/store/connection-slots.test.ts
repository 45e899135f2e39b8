/**
 * The semaphores behind `DB_REQUEST_CONNECTIONS` and `DB_CLIENT_CONNECTIONS`: waits end when the
 * request is given up or a bounded wait runs out, and a client's slots are forgotten once none of
 * its requests runs.
 */
import { describe, expect, it } from 'vitest';
import { ClientConnectionSlots, ConnectionSlots } from '../../src/store/connection-slots.ts';

const never = new AbortController().signal;
const gone = () => new Error('gone');

describe('ConnectionSlots', () => {
  it('refuses a bounded wait that runs out, and the refused waiter does not take the next free slot', async () => {
    const slots = new ConnectionSlots(1);
    await slots.take(never, gone);
    await expect(slots.take(never, gone, { timeoutMs: 20, refused: () => new Error('busy') })).rejects.toThrow('busy');
    const waiting = slots.take(never, gone);
    slots.give();
    await waiting;
    expect(slots.idle).toBe(false);
    slots.give();
    expect(slots.idle).toBe(true);
  });

  it('ends a wait when the request is given up, with the error it was given up with', async () => {
    const slots = new ConnectionSlots(1);
    await slots.take(never, gone);
    const controller = new AbortController();
    const waiting = slots.take(controller.signal, () => controller.signal.reason as Error, { timeoutMs: 10_000, refused: () => new Error('busy') });
    controller.abort(new Error('timed out'));
    await expect(waiting).rejects.toThrow('timed out');
  });
});

describe('ClientConnectionSlots', () => {
  it('shares one client\'s slots across its requests and forgets the client when it is idle', async () => {
    const clients = new ClientConnectionSlots(2);
    const a = clients.enter('a');
    const b = clients.enter('a');
    expect(a.slots).toBe(b.slots);
    expect(clients.enter('other').slots).not.toBe(a.slots);
    await a.slots.take(never, gone);
    a.leave();
    b.leave();
    expect(clients.size).toBe(2); // 'a' still holds a slot; 'other' never left
    a.slots.give();
    expect(clients.size).toBe(1);
  });
});

/**
 * The server's background loops start in order and stop in reverse order; when one fails to
 * start, the ones already started are stopped and the failure is what `startServer` sees.
 */
import { describe, expect, it } from 'vitest';
import { WorkerList, type Worker } from '../../src/store/worker.ts';

function worker(name: string, log: string[], failStart = false): Worker {
  return {
    name,
    start: async () => {
      if (failStart) throw new Error(`${name} cannot start`);
      log.push(`start ${name}`);
    },
    stop: async () => { log.push(`stop ${name}`); },
  };
}

describe('WorkerList', () => {
  it('starts workers in order and stops them in reverse order', async () => {
    const log: string[] = [];
    const list = new WorkerList([worker('a', log), worker('b', log), worker('c', log)]);
    await list.start();
    await list.stop();
    expect(log).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('stops the workers already started when one fails to start, and rethrows its error', async () => {
    const log: string[] = [];
    const list = new WorkerList([worker('a', log), worker('b', log, true), worker('c', log)]);
    await expect(list.start()).rejects.toThrow('b cannot start');
    expect(log).toEqual(['start a', 'stop a']);
  });

  it('stops every worker even when one fails to stop', async () => {
    const log: string[] = [];
    const failing: Worker = { name: 'x', start: () => undefined, stop: async () => { throw new Error('x will not stop'); } };
    const list = new WorkerList([worker('a', log), failing, worker('c', log)]);
    await list.start();
    await expect(list.stop()).rejects.toThrow('x will not stop');
    expect(log).toEqual(['start a', 'start c', 'stop c', 'stop a']);
  });
});

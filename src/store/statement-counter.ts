/**
 * Counts the SQL statements a request sends, through async context: a request runs inside
 * {@link countStatements} and every statement the store issues on its behalf (loaders and batches
 * included) is counted, while background work (audit flushes, rate-limit syncs) is not. The graph
 * reports it in `extensions.statements`; the N+1 test and the benchmark read it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<{ count: number }>();

/** Runs `work` with a fresh statement counter; `counter.count` is readable during and after. */
export function countStatements<T>(counter: { count: number }, work: () => T): T {
  return current.run(counter, work);
}

/** Called by the store for each statement sent. */
export function noteStatement(): void {
  const counter = current.getStore();
  if (counter) counter.count++;
}

/** The statements counted so far in the current request (undefined outside one). */
export function currentStatements(): number | undefined {
  return current.getStore()?.count;
}

/**
 * The CPU time this process spends on some work, for tests that bound the cost of hostile input
 * (issue 14) without a wall clock (issue 15): time spent waiting for a core while other processes
 * run does not count, so such a test fails when the work itself grows (a super-linear scan of a
 * hostile input costs seconds of CPU, a linear one milliseconds), not when the machine is busy.
 * It counts every thread of the process (GC included), and the server's work too when the test
 * server runs in this process, as `startTestServer` does.
 */

/** CPU milliseconds (user + system) spent while `work` ran. */
export function cpuMsOf(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1_000;
}

/** `work`'s result and the CPU milliseconds (user + system) this process spent until it settled. */
export async function cpuMsOfAsync<T>(work: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const before = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(before);
  return { value, cpuMs: (used.user + used.system) / 1_000 };
}

/**
 * `npm run bench -- --profile`: CPU profiles of the fhirgraph process, one per workload. The server
 * runs with `--inspect=127.0.0.1:<port>` (loopback only, a bench run's own port), and this client
 * speaks the inspector protocol over its WebSocket: `Profiler.start` before a workload's measured
 * run, `Profiler.stop` after, which returns the profile in the `.cpuprofile` format that Chrome
 * DevTools and speedscope open. One server process for the whole run keeps the groups interleaved
 * as without `--profile`; the sampling costs the server some throughput, so a profiled run's
 * figures are for reading the profiles, not for the table.
 * https://chromedevtools.github.io/devtools-protocol/v8/Profiler/
 */
import WebSocket from 'ws';
import type { CpuProfile } from './profile-summary.ts';

export interface ProfilerSession {
  start(): Promise<void>;
  stop(): Promise<CpuProfile>;
  close(): void;
}

/** Sampling interval in microseconds (V8's default is 1,000). */
const SAMPLING_INTERVAL_US = 500;

/** Connects to the inspector of the process listening on `127.0.0.1:<port>`. */
export async function connectProfiler(port: number): Promise<ProfilerSession> {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as { webSocketDebuggerUrl: string }[];
  if (!targets[0]?.webSocketDebuggerUrl) throw new Error(`no inspector target on port ${port}`);
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl, { maxPayload: 2 ** 30 });
  await new Promise<void>((resolve, reject) => { socket.once('open', () => resolve()); socket.once('error', reject); });
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error) waiter.reject(new Error(`inspector: ${message.error.message}`));
    else waiter.resolve(message.result);
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}) => new Promise<T>((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    socket.send(JSON.stringify({ id, method, params }));
  });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
  return {
    start: () => send('Profiler.start'),
    stop: async () => (await send<{ profile: CpuProfile }>('Profiler.stop')).profile,
    close: () => socket.close(),
  };
}

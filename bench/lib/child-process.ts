/**
 * The servers under test run in processes of their own, as in production: started here, timed to
 * their first healthy answer, sampled for memory (VmRSS, and VmHWM, the peak, from /proc), and
 * stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Child {
  process: ChildProcess;
  /** Every line the child wrote to stdout (pino JSON for fhirgraph). */
  lines: string[];
  /** Milliseconds from spawn to the first healthy answer. */
  startMs: number;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resident and peak resident memory of a process, in MiB (Linux /proc). */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakRssMb: Math.round(kb('VmHWM') / 1024) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Spawns `command args` with `env` and waits until `ready(stdoutLines)` resolves true (polled every 25 ms)
 * or the child exits; stderr is kept for the error message.
 */
export async function startChild(command: string, args: string[], env: NodeJS.ProcessEnv, ready: (lines: readonly string[]) => Promise<boolean>, timeoutMs = 120_000): Promise<Child> {
  const started = performance.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-4000); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let alive = true;
  void exited.then(() => { alive = false; });
  while (true) {
    if (!alive) throw new Error(`${command} ${args.join(' ')} exited before it was ready:\n${stderr}`);
    if (performance.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${command} ${args.join(' ')} was not ready after ${timeoutMs} ms:\n${stderr}`);
    }
    if (await ready(lines).catch(() => false)) break;
    await sleep(25);
  }
  const startMs = Math.round(performance.now() - started);
  return {
    process: child,
    lines,
    startMs,
    async stop() {
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** True when `url` answers 200. */
export async function answers(url: string): Promise<boolean> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status === 200;
}

/**
 * A server process as `npm start` runs it (`node --import tsx src/main.ts`), on a database another
 * process (or the test's own server) shares, and the operator CLI as a child process: for the
 * tests that need several processes behaving as one service, or a process to kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A running server process and its address. */
export interface ServerProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT` */
  url: string;
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts a server process on `databaseUrl` with rate limits off and `env` on top (`PUBLIC_URL`
 * defaults to its own address), and resolves once `/healthz` answers; it is killed when it does not
 * within `timeoutMs` (two processes starting at once on a machine busy with other test files take a while).
 */
export async function startServerProcess(databaseUrl: string, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: url, LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_SECOND: '0', RATE_LIMIT_PER_MINUTE: '0', METRICS_PORT: '0', ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`server process did not start (exit code ${child.exitCode})`);
}

/** Stops a server process with `signal` (SIGKILL: a crash) and waits for it to exit. */
export async function stopServerProcess(proc: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill(signal);
  await once(proc.child, 'exit');
}

/** Runs `npx fhirgraph …args` on `databaseUrl` and returns the JSON it prints; rejects on a non-zero exit. */
export async function runCli(databaseUrl: string, ...args: string[]): Promise<any> {
  const child = spawn(process.execPath, ['bin/fhirgraph.js', ...args], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk) => { out += chunk; });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`fhirgraph ${args.join(' ')} exited ${code}`);
  return JSON.parse(out);
}

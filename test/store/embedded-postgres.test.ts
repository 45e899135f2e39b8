import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, postmasterPid, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded-postgres.ts';

const MODULE = fileURLToPath(new URL('../../src/store/embedded-postgres.ts', import.meta.url));
// Not synchronous_commit=off: the crash test needs its committed row to survive a SIGKILL.
const FAST = { fsync: 'off' };

let root: string;
const running: EmbeddedPostgres[] = [];

async function start(dataDir: string): Promise<EmbeddedPostgres> {
  const cluster = await startEmbeddedPostgres({ dataDir, settings: FAST });
  running.push(cluster);
  return cluster;
}

async function query<T extends pg.QueryResultRow>(databaseUrl: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function waitForDeath(pid: number): Promise<void> {
  while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
}

beforeAll(async () => {
  // A 0700 parent, like a clone under /root: as root, the postgres user must still reach the data.
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'fhirgraph-embedded-'));
  await fs.chmod(root, 0o700);
});

afterAll(async () => {
  await Promise.all(running.map((cluster) => cluster.stop()));
  await fs.rm(root, { recursive: true, force: true });
});

describe('startEmbeddedPostgres', () => {
  it('serves a UTF8 database whose rows survive a stop and a start', async () => {
    const dataDir = path.join(root, 'restart');
    const first = await start(dataDir);
    expect(first.reused).toBe(false);
    expect(first.databaseUrl).toMatch(/^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/fhirgraph$/);
    expect(await query(first.databaseUrl, 'SHOW server_encoding')).toEqual([{ server_encoding: 'UTF8' }]);
    await query(first.databaseUrl, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('Zoë Ångström')`);
    await first.stop();
    expect(await postmasterPid(dataDir)).toBeUndefined();

    const second = await start(dataDir);
    expect(second.reused).toBe(false);
    expect(await query(second.databaseUrl, 'SELECT v FROM kept')).toEqual([{ v: 'Zoë Ångström' }]);
    expect((await fs.stat(path.join(dataDir, 'pg-password'))).mode & 0o777).toBe(0o600);
    await second.stop();
  });

  /** A child process standing in for a server: it starts the cluster of `dataDir` and stays up. */
  async function spawnServer(dataDir: string) {
    const script = `import { startEmbeddedPostgres } from ${JSON.stringify(MODULE)};
      const db = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} });
      process.stdout.write(db.databaseUrl + '\\n'); setInterval(() => {}, 1000);`;
    const server = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [chunk] = (await once(server.stdout!, 'data')) as [Buffer];
    return { server, serverUrl: chunk.toString().trim() };
  }

  it('leaves the cluster of a live server running when another process reuses it', async () => {
    const dataDir = path.join(root, 'live-server');
    const { server, serverUrl } = await spawnServer(dataDir);
    const pid = await postmasterPid(dataDir);

    const cli = await start(dataDir);
    expect(cli.reused).toBe(true);
    expect(cli.databaseUrl).toBe(serverUrl);
    await cli.stop();
    expect(isAlive(pid!)).toBe(true);
    expect(await query(cli.databaseUrl, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    server.kill('SIGKILL');
    await once(server, 'exit');
    process.kill(pid!, 'SIGINT');
    await waitForDeath(pid!);
  });

  it('adopts the postmaster of a server killed with SIGKILL and stops it cleanly on stop', async () => {
    const dataDir = path.join(root, 'killed-server');
    const { server, serverUrl } = await spawnServer(dataDir);
    await query(serverUrl, 'CREATE TABLE survived (v int); INSERT INTO survived VALUES (7)');
    server.kill('SIGKILL');
    await once(server, 'exit');
    const pid = await postmasterPid(dataDir);
    expect(pid && isAlive(pid)).toBeTruthy();

    const next = await start(dataDir);
    expect(next.reused).toBe(true);
    expect(next.databaseUrl).toBe(serverUrl);
    expect(await query(next.databaseUrl, 'SELECT v FROM survived')).toEqual([{ v: 7 }]);
    await next.stop();
    await waitForDeath(pid!);
    expect(isAlive(pid!)).toBe(false);
  });

  it('removes a stale postmaster.pid left by a killed postmaster and starts again', async () => {
    const dataDir = path.join(root, 'killed-postgres');
    const first = await start(dataDir);
    await query(first.databaseUrl, `CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)`);
    const pid = (await postmasterPid(dataDir))!;
    process.kill(pid, 'SIGKILL');
    await waitForDeath(pid);
    await first.stop(); // already gone: resolves at once
    expect(await postmasterPid(dataDir)).toBe(pid); // left behind

    const second = await start(dataDir);
    expect(second.reused).toBe(false);
    expect(await query(second.databaseUrl, 'SELECT v FROM kept')).toEqual([{ v: 42 }]);
    await second.stop();

    // A pid file naming a live process that is not this cluster's postgres (a recycled pid) is stale too.
    await fs.writeFile(path.join(dataDir, 'pg', 'postmaster.pid'), `${process.pid}\n${dataDir}/pg\n0\n5432\n\n127.0.0.1\n0 0\nready   \n`);
    const third = await start(dataDir);
    expect(third.reused).toBe(false);
    await third.stop();
  });
});

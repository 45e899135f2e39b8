/**
 * `npx fhirgraph …` run from a subfolder of the project uses the project's database, not a second,
 * empty embedded cluster in `./.data` of that subfolder (issue 15), and says on stderr which
 * database it uses, without credentials.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, postmasterPid } from '../../src/store/embedded-postgres.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The environment of a shell with neither DATABASE_URL nor DATA_DIR set. */
function envWithout(...names: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of names) delete env[name];
  return env;
}

describe('npx fhirgraph from a subfolder, with DATABASE_URL', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase(); });
  afterAll(async () => { await db?.drop(); });

  it('names the database on stderr without user, password or query string', async () => {
    const url = new URL(db.databaseUrl);
    url.username ||= 'postgres';
    url.password ||= 'not-needed-under-trust';
    url.search = '?application_name=cli-test';
    const cwd = path.join(ROOT, 'test');
    const { stdout, stderr } = await run(process.execPath, [path.join(ROOT, 'bin/fhirgraph.js'), 'clients', 'list'],
      { cwd, env: { ...envWithout('DATA_DIR'), DATABASE_URL: url.toString() } });
    expect(JSON.parse(stdout)).toEqual({ clients: [] });
    expect(stderr).toContain(`fhirgraph: using DATABASE_URL postgresql://${url.host}${url.pathname}\n`);
    expect(stderr).not.toContain(url.password);
    expect(stderr).not.toContain(`${url.username}:`);
    expect(stderr).not.toContain('application_name');
    expect(existsSync(path.join(cwd, '.data'))).toBe(false);
  });
});

describe('npx fhirgraph from a subfolder, with the embedded default', () => {
  // A copy of the project as the Dockerfile copies it (package.json, bin, src; the same
  // node_modules), so the embedded cluster it makes never touches this checkout's own `.data`.
  let project: string;
  beforeAll(() => {
    project = mkdtempSync(path.join(os.tmpdir(), 'fhirgraph-project-'));
    for (const entry of ['package.json', 'bin', 'src']) cpSync(path.join(ROOT, entry), path.join(project, entry), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'));
    mkdirSync(path.join(project, 'docs', 'notes'), { recursive: true });
  });
  afterAll(async () => {
    if (!project) return;
    const pid = await postmasterPid(path.join(project, '.data'));
    if (pid && isAlive(pid)) process.kill(pid, 'SIGQUIT');
    rmSync(project, { recursive: true, force: true });
  });

  const cli = (cwd: string, ...args: string[]) =>
    run(process.execPath, [path.join(project, 'bin/fhirgraph.js'), ...args], { cwd, env: envWithout('DATABASE_URL', 'DATA_DIR') });

  it('keeps its data in the project root and finds it again from another subfolder', async () => {
    const created = await cli(path.join(project, 'docs'), 'clients', 'create', '--name', 'from-docs', '--scope', 'system/*.read');
    const { client_id } = JSON.parse(created.stdout) as { client_id: string };
    expect(existsSync(path.join(project, 'docs', '.data'))).toBe(false);
    expect(existsSync(path.join(project, '.data', 'pg', 'PG_VERSION'))).toBe(true);
    expect(created.stderr).toContain(`fhirgraph: using the embedded PostgreSQL in ${path.join(project, '.data')} (DATA_DIR)\n`);

    const listed = await cli(path.join(project, 'docs', 'notes'), 'clients', 'list');
    expect((JSON.parse(listed.stdout) as { clients: { client_id: string }[] }).clients.map((c) => c.client_id)).toEqual([client_id]);
    expect(existsSync(path.join(project, 'docs', 'notes', '.data'))).toBe(false);
  }, 180_000);
});

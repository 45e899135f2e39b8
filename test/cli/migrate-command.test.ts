import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

const run = promisify(execFile);
const adminUrl = () => inject('adminDatabaseUrl');
const name = `fhirgraph_cli_${process.pid}`;
let url: string;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const parsed = new URL(adminUrl());
  parsed.pathname = `/${name}`;
  url = parsed.toString();
});

afterAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

describe('npx fhirgraph migrate', () => {
  it('migrates an empty database, prints {"migrated":true} and is idempotent', async () => {
    for (let i = 0; i < 2; i++) {
      const { stdout } = await run('npx', ['fhirgraph', 'migrate'], { env: { ...process.env, DATABASE_URL: url } });
      expect(JSON.parse(stdout)).toEqual({ migrated: true });
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('resource', 'resource_history', 'search_reference', 'change_event')`);
    await client.end();
    expect(rows[0].n).toBe(4);
  });

  it('exits non-zero with a message on stderr for an unknown command', async () => {
    await expect(run('npx', ['fhirgraph', 'frobnicate'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command') });
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const run = promisify(execFile);
let empty: TestDatabase;
let url: string;

beforeAll(async () => {
  empty = await createEmptyTestDatabase();
  url = empty.databaseUrl;
});

afterAll(() => empty.drop());

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

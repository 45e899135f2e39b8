/**
 * The README's "Try it" block is a script a newcomer pastes: run it as written against a real
 * server (the CLI it calls writes to the same database) and check what each call answered.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The first `sh` code block under the README's "## Try it" heading. */
async function tryItScript(): Promise<string> {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Try it\n'));
  const match = /```sh\n([\s\S]*?)\n```/.exec(section);
  if (!match) throw new Error('no sh block under "## Try it"');
  return match[1]!;
}

function runBash(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-euo', 'pipefail', '-c', script], { cwd: root, env, timeout: 120_000, maxBuffer: 8 << 20 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }));
  });
}

describe('README "Try it"', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer(); });
  afterAll(async () => { await server?.close(); });

  it('runs as a script, and each call answers what its comment says', async () => {
    const result = await runBash(await tryItScript(), { ...process.env, BASE: server.url, DATABASE_URL: server.databaseUrl });
    expect(result.code, result.stderr).toBe(0);
    const statuses = [...result.stdout.matchAll(/ (\d{3})$/gm)].map((m) => Number(m[1]));
    expect(statuses).toEqual([
      200, // metadata
      200, 200, // read, vread
      200, 412, // update, stale If-Match
      201, // update-as-create
      200, // patch
      201, 200, // conditional create twice
      200, // search
      200, // transaction
      200, // GraphQL
      200, // $validate
      200, 410, // delete, read after delete
      200, 200, 200, // history
    ]);
    expect(result.stdout).toMatch(/created Patient\/[A-Za-z0-9.-]+/);
    expect(result.stdout).toContain('"transaction-response"');
    expect(result.stdout).toMatch(/"value":\s*72\.50/);
    expect(result.stdout).toMatch(/"PatientList":\s*\[\s*\{[^]*"family":\s*"Jones"/);
    expect(result.stdout).toContain('{"status":"ok"}');
  }, 180_000);
});

/**
 * The bench's physical-limit baseline (bench/minimal-server/serve-minimal.ts), started in its own
 * process on a real database, answers `GET /fhir/Patient/{id}` with the same JSON, content type
 * and ETag as fhirgraph's read by id, answers 404 for what fhirgraph does not serve, and refuses
 * any request without the bench secret.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startChild, type Child } from '../../bench/lib/child-process.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'a-bench-secret-of-at-least-32-characters';
let t: TestServer;
let minimal: Child | undefined;
let origin: string;
const ids: string[] = [];

async function read(id: string, secret: string | null = SECRET) {
  const res = await fetch(`${origin}/fhir/Patient/${id}`, { headers: secret === null ? {} : { 'x-bench-secret': secret } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

beforeAll(async () => {
  t = await startTestServer();
  for (const family of ['Smith', 'Jones']) {
    const res = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family, given: ['Ann'] }], birthDate: '1970-01-01', multipleBirthInteger: 2 } });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  // A second version, so the ETag is not the first one's.
  const updated = await fhirFetch(`${t.url}/fhir/Patient/${ids[1]}`, { method: 'PUT', body: { resourceType: 'Patient', id: ids[1], name: [{ family: 'Jones-Smith' }] } });
  expect(updated.status).toBe(200);
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  minimal = await startChild(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/minimal-server/serve-minimal.ts')],
    { ...process.env, DATABASE_URL: t.databaseUrl, PORT: String(port), HOST: '127.0.0.1', BENCH_BASELINE_SECRET: SECRET },
    async (lines) => lines.some((line) => line.startsWith('listening ')));
}, 60_000);
afterAll(async () => {
  await minimal?.stop();
  await t?.close();
});

describe('minimal Node http + pg baseline server', () => {
  it('answers read by id with the JSON, content type and ETag fhirgraph answers', async () => {
    for (const id of ids) {
      const fhir = await fetch(`${t.url}/fhir/Patient/${id}`, { headers: { authorization: `Bearer ${t.adminToken}`, accept: 'application/fhir+json' } });
      const fhirText = await fhir.text();
      const res = await read(id);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual(JSON.parse(fhirText));
      expect(res.headers.get('content-type')).toBe(fhir.headers.get('content-type'));
      expect(res.headers.get('etag')).toBe(fhir.headers.get('etag'));
      expect(res.headers.get('last-modified')).toBe(fhir.headers.get('last-modified'));
    }
    expect((await read(ids[1])).headers.get('etag')).toBe('W/"2"');
  });

  it('answers 404 for an unknown or deleted Patient, as fhirgraph serves neither', async () => {
    expect((await read('no-such-patient')).status).toBe(404);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${ids[0]}`, { method: 'DELETE' })).status).toBeLessThan(300);
    expect((await read(ids[0])).status).toBe(404);
    const other = await fetch(`${origin}/fhir/Observation/x`, { headers: { 'x-bench-secret': SECRET } });
    expect(other.status).toBe(404);
  });

  it('refuses a request without the secret or with a wrong one', async () => {
    expect((await read(ids[1], null)).status).toBe(401);
    expect((await read(ids[1], SECRET.replace('a', 'b'))).status).toBe(401);
  });
});

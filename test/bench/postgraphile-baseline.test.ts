/**
 * The PostGraphile baseline of the benchmark (bench/postgraphile): the relational copy of data
 * created through fhirgraph's REST API, served by PostGraphile 4 in its own process behind
 * fhirgraph's JWT verification (DECISIONS.md §10), answers the nested query with the same data as
 * fhirgraph, and serves nobody without a valid fhirgraph token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJwtVerification } from '../../bench/postgraphile/jwks-to-pem.ts';
import {
  FHIRGRAPH_NESTED_QUERY, POSTGRAPHILE_NESTED_QUERY, normaliseFhirgraphNested, normaliseNestedAnswer, normalisePostgraphileNested,
} from '../../bench/postgraphile/nested-query.ts';
import { buildRelationalCopy } from '../../bench/postgraphile/relational-copy.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVE_SCRIPT = 'bench/postgraphile/serve-postgraphile.ts';

let t: TestServer;
let child: ChildProcess | undefined;
let postgraphileUrl: string;
let copyCounts: { patients: number; observations: number; practitioners: number };

async function create(resource: Record<string, unknown>): Promise<string> {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource, token: t.adminToken });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function graphql(url: string, query: string, token: string | null) {
  return fhirFetch(`${url}/graphql`, { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' }, token });
}

/** 3 practitioners, 5 live patients with 4 observations each, plus the cases a copy can get wrong. */
async function seedThroughRest(): Promise<void> {
  const practitioners = [];
  for (const family of ['Osler', 'Nightingale', 'Lister']) practitioners.push(await create({ resourceType: 'Practitioner', name: [{ family, given: ['A'] }] }));
  const organization = await create({ resourceType: 'Organization', name: 'Ward 7' });
  const codes = ['Heart rate', 'Body weight', 'Glucose', 'Blood pressure panel'];
  for (const [p, family] of ['Smith', 'Jones', 'Brown', 'Taylor', 'Smith'].entries()) {
    const patient = await create({ resourceType: 'Patient', name: [{ family, given: [`P${p}`] }, { family: 'Alias' }] });
    for (const [o, text] of codes.entries()) {
      const performer =
        o === 3 && p === 0 ? undefined // no performer at all
          : o === 2 ? [{ reference: `Organization/${organization}` }, { reference: `Practitioner/${practitioners[(p + 1) % 3]}` }] // the Practitioner is not first
            : [{ reference: `Practitioner/${practitioners[(p + o) % 3]}` }];
      await create({
        resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: `0000-${o}` }], text },
        subject: { reference: `Patient/${patient}` }, ...(performer ? { performer } : {}), valueQuantity: { value: 70 + o, unit: '1' },
      });
    }
  }
  // A deleted patient is in neither answer.
  const gone = await create({ resourceType: 'Patient', name: [{ family: 'Deleted' }] });
  expect((await fhirFetch(`${t.url}/fhir/Patient/${gone}`, { method: 'DELETE', token: t.adminToken })).status).toBeLessThan(300);
}

/** Spawns serve-postgraphile and waits for its `listening <url>` line. */
async function startPostgraphile(env: Record<string, string>): Promise<string> {
  const started = spawn(process.execPath, ['--import', 'tsx', SERVE_SCRIPT], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child = started;
  let stderr = '';
  started.stderr!.on('data', (chunk) => { stderr += chunk; });
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve-postgraphile did not start in 15 s: ${stderr}`)), 15_000);
    createInterface({ input: started.stdout! }).on('line', (line) => {
      const match = /^listening (\S+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    started.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve-postgraphile exited with ${code}: ${stderr}`));
    });
  });
}

beforeAll(async () => {
  t = await startTestServer();
  await seedThroughRest();
  copyCounts = await buildRelationalCopy(t.databaseUrl, 'bench_relational_test');
  const jwt = await fetchJwtVerification(t.url);
  postgraphileUrl = await startPostgraphile({
    DATABASE_URL: t.databaseUrl, PORT: '0', PG_SCHEMA: 'bench_relational_test', JWT_PUBLIC_KEY_PEM: jwt.publicKeyPem, JWT_ISSUER: jwt.issuer,
  });
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  await t?.close();
});

describe('relational copy', () => {
  it('copies the live resources only', () => {
    expect(copyCounts).toEqual({ practitioners: 3, patients: 5, observations: 20 });
  });
});

describe('PostGraphile behind fhirgraph JWT verification', () => {
  it('refuses a request without a token with 401 and an error', async () => {
    const res = await graphql(postgraphileUrl, POSTGRAPHILE_NESTED_QUERY, null);
    expect(res.status).toBe(401);
    expect(res.body.errors[0].message).toMatch(/access token/i);
    expect(res.body.data).toBeUndefined();
  });

  it('refuses a token signed by another key, with the right claims', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ scope: 'system/*.*', client_id: 'intruder' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).setIssuer(t.config.publicUrl).setAudience(t.config.publicUrl)
      .setSubject('intruder').setJti('x').setIssuedAt().setExpirationTime('5m').sign(privateKey);
    const res = await graphql(postgraphileUrl, POSTGRAPHILE_NESTED_QUERY, forged);
    expect(res.status).toBe(401);
    expect(res.body.errors.length).toBeGreaterThan(0);
    expect(res.body.data ?? null).toBeNull();
  });

  it('answers the nested query with the same data as fhirgraph, given a fhirgraph token', async () => {
    const token = await t.tokenWithScope('system/*.rs');
    const ours = await graphql(t.url, FHIRGRAPH_NESTED_QUERY, token);
    const theirs = await graphql(postgraphileUrl, POSTGRAPHILE_NESTED_QUERY, token);
    expect(ours.status, ours.text).toBe(200);
    expect(theirs.status, theirs.text).toBe(200);
    const expected = normaliseFhirgraphNested(ours.body);
    expect(expected).toHaveLength(5);
    expect(expected.flatMap((p) => p.observations)).toHaveLength(20);
    expect(expected.flatMap((p) => p.observations).filter((o) => o.performerFamily === null)).toHaveLength(1);
    expect(normalisePostgraphileNested(theirs.body)).toEqual(expected);
    expect(normaliseNestedAnswer(theirs.body)).toEqual(normaliseNestedAnswer(ours.body));
  });
});

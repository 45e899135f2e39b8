import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBundles, planSeed } from '../../scripts/seed/generate-bundles.ts';
import { TOKEN_MAX_AGE_MS, loadBundles, refreshTokenSource, type TokenSource } from '../../scripts/seed/load-bundles.ts';
import { createTestDatabase } from '../helpers/test-database.ts';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `scripts/seed.ts` as `npm run seed` would, with `args`. */
function runSeed(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every version of `type` stored, following `next` links. */
async function history(t: TestServer, type: string): Promise<any[]> {
  const entries: any[] = [];
  let url: string | undefined = `${t.url}/fhir/${type}/_history?_count=1000`;
  while (url) {
    const page: FhirResponse = await fhirFetch(url, { token: t.adminToken });
    expect(page.status).toBe(200);
    entries.push(...(page.body.entry ?? []));
    url = page.body.link?.find((l: any) => l.relation === 'next')?.url;
  }
  return entries;
}

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

describe('npm run seed', () => {
  it('fails loudly with the server\'s diagnostics when a bundle is refused', async () => {
    const readOnly = await t.tokenWithScope('system/*.read');
    const run = await runSeed(['--url', t.url, '--token', readOnly, '--scale', '100']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/bundle 1 \(directory, \d+ entries\) was refused: 403/);
    expect(run.stderr).toMatch(/Bundle\.entry\[0\]/);
  });

  it('loads a small scale through the transaction endpoint of a running server', async () => {
    const plan = planSeed({ scale: 600, seed: 5 });
    const run = await runSeed(['--url', t.url, '--token', t.adminToken, '--scale', '600', '--seed', '5', '--bundle-size', '200']);
    expect(run.stderr).not.toMatch(/refused|could not/);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ resources: plan.resources, seed: 5, scale: 600 });
    expect(summary.bundles).toBeGreaterThanOrEqual(4);
    expect(summary.resourcesPerSecond).toBeGreaterThan(0);
    expect(run.stderr).toContain(`${plan.resources.toLocaleString('en-US')}/${plan.resources.toLocaleString('en-US')} resources`);

    const patients = await history(t, 'Patient');
    expect(patients).toHaveLength(plan.patients);
    expect(await history(t, 'Practitioner')).toHaveLength(plan.practitioners);
    expect(await history(t, 'Organization')).toHaveLength(plan.organizations);
    const observations = await history(t, 'Observation');
    const counts: number[] = [];
    for (const type of ['Encounter', 'Condition', 'MedicationRequest', 'Appointment']) counts.push((await history(t, type)).length);
    expect(plan.practitioners + plan.organizations + patients.length + observations.length + counts.reduce((a, b) => a + b, 0)).toBe(plan.resources);

    // urn:uuid references were rewritten to the ids the server assigned, and they resolve.
    const observation = observations[0].resource;
    expect(observation.subject.reference).toMatch(/^Patient\/[0-9a-f-]{36}$/);
    expect((await fhirFetch(`${t.url}/fhir/${observation.subject.reference}`)).status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/${observation.encounter.reference}`)).status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/${observation.performer[0].reference}`)).status).toBe(200);
    const patient = patients[0].resource;
    expect((await fhirFetch(`${t.url}/fhir/${patient.managingOrganization.reference}`)).body.resourceType).toBe('Organization');

    // Decimals arrived exactly (trailing zeros kept).
    const text = (await fhirFetch(`${t.url}/fhir/Observation/_history?_count=1000`)).text;
    expect(text).toMatch(/"valueQuantity":\{"value":\d+\.\d*0,"unit"/);
  });

  it('exchanges --refresh-token for access tokens', async () => {
    const client = await t.createClient({ name: 'seed test', scope: 'system/*.*', rate: '0/s,0/min' });
    const run = await runSeed(['--url', `${t.url}/fhir`, '--refresh-token', client.refresh_token!, '--scale', '40', '--seed', '6']);
    expect(run.stderr).not.toMatch(/refused/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).resources).toBe(planSeed({ scale: 40, seed: 6 }).resources);
  });

  it('starts the server in process on DATABASE_URL when no --url is given, and stops it', async () => {
    const db = await createTestDatabase();
    try {
      const run = await runSeed(['--scale', '60', '--seed', '2'], { ...process.env, DATABASE_URL: db.databaseUrl, LOG_LEVEL: 'warn' });
      expect(run.stderr).not.toMatch(/refused/);
      expect(run.code).toBe(0);
      const plan = planSeed({ scale: 60, seed: 2 });
      expect(JSON.parse(run.stdout)).toMatchObject({ resources: plan.resources, seed: 2, scale: 60 });
      const other = await startTestServer({}, db);
      try {
        expect(await history(other, 'Patient')).toHaveLength(plan.patients);
        const clients = (await fhirFetch(`${other.url}/admin/clients`, { token: other.adminToken })).body.clients as { name: string; status: string }[];
        expect(clients.find((c) => c.name === 'seed')?.status).toBe('disabled');
      } finally {
        await other.close();
      }
    } finally {
      await db.drop();
    }
  });
});

describe('loading tokens', () => {
  it('asks for a new access token once the current one is ten minutes old', async () => {
    const client = await t.createClient({ name: 'seed clock', scope: 'system/*.*' });
    let now = 0;
    const tokens = refreshTokenSource(t.url, client.refresh_token!, () => now);
    const first = await tokens.current();
    now += TOKEN_MAX_AGE_MS - 1;
    expect(await tokens.current()).toBe(first);
    now += 1;
    const second = await tokens.current();
    expect(second).not.toBe(first);
    expect((await fhirFetch(`${t.url}/fhir/Patient/_history?_count=1`, { token: second })).status).toBe(200);
  });

  it('renews the token and retries the bundle when the server answers 401', async () => {
    const client = await t.createClient({ name: 'seed renew', scope: 'system/*.*', rate: '0/s,0/min' });
    const real = refreshTokenSource(t.url, client.refresh_token!);
    let renewed = 0;
    const tokens: TokenSource = {
      current: async () => (renewed === 0 ? 'expired.token.value' : real.current()),
      renew: async () => { renewed++; return real.renew(); },
    };
    const plan = planSeed({ scale: 30, seed: 12 });
    const result = await loadBundles(generateBundles(plan), { baseUrl: t.url, tokens, concurrency: 1 });
    expect(renewed).toBe(1);
    expect(result.resources).toBe(plan.resources);
  });
});

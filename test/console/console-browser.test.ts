/**
 * Issue 19, the operator console in a real browser: Playwright drives Debian's `chromium`
 * (installed by `.ci/run` with apt-get; browser downloads are not reachable here) against a real
 * server. It signs in with an admin client's API key, creates a client (and sees its secret once,
 * and that secret works), finds the AuditEvent of that request in the audit trail, sees a
 * Subscription whose text is markup shown as text, lists exports, and runs a GraphQL query in the
 * explorer. No page may break its CSP (no inline script) or run injected markup. A screenshot of
 * each page goes to `test/output/console/` for review.
 *
 * Without `/usr/bin/chromium` (or `CHROMIUM_PATH`) the file is skipped, except under CI=true,
 * where that is a failure.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
if (!present && !inCi) console.warn(`console-browser.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);

const SHOTS = path.resolve('test/output/console');
/** Markup an attacker could store in a resource's text: it must be shown, never run. */
const MARKUP = '<img src=x onerror="window.__injected = 1">';

let t: TestServer;
let browser: Browser;
let page: Page;
let apiKey: string;
const problems: string[] = [];

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const open = (title: string) => page.getByRole('navigation').getByRole('button', { name: title }).click();

describe.skipIf(!present && !inCi)('the operator console in Chromium', () => {
  beforeAll(async () => {
    if (!present) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: .ci/run installs it with apt-get install -y chromium`);
    mkdirSync(SHOTS, { recursive: true });
    [t, browser] = await Promise.all([
      startTestServer(),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync'],
      }),
    ]);
    apiKey = (await t.createClient({ name: 'console admin', scope: 'system/*.*', admin: true })).refresh_token!;
    const subscription = await fhirFetch(`${t.url}/fhir/Subscription`, {
      method: 'POST',
      body: { resourceType: 'Subscription', status: 'off', reason: MARKUP, criteria: 'Patient?family=Console', channel: { type: 'rest-hook', endpoint: 'https://hooks.example.org/fhir', payload: 'application/fhir+json' } },
    });
    expect(subscription.status, subscription.text).toBe(201);
    await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Console', given: [MARKUP] }] } });
    const kickOff = await fetch(`${t.url}/fhir/$export?_type=Patient`, { headers: { authorization: `Bearer ${t.adminToken}`, prefer: 'respond-async', accept: 'application/fhir+json' } });
    expect(kickOff.status).toBe(202);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => { problems.push(`dialog: ${dialog.message()}`); void dialog.dismiss(); });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('signs in with an admin client\'s API key', async () => {
    await page.goto(`${t.url}/console`);
    await page.locator('input[name="api-key"]').fill('fgr_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 20_000 }).toContain('invalid_grant');
    problems.length = 0; // the refused token request is the browser's own console error
    await page.locator('input[name="api-key"]').fill(apiKey);
    await shot('01-sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('clients').getByText('console admin').waitFor();
    expect(await page.evaluate('[localStorage.length, sessionStorage.length]')).toEqual([0, 0]);
  });

  it('creates a client and shows its secret once; the secret is a working API key', async () => {
    await page.locator('input[name="name"]').fill('made in the browser');
    await page.locator('input[name="scope"]').fill('system/Patient.rs');
    await page.getByRole('button', { name: 'Create' }).click();
    const secret = (await page.getByTestId('created-secret').textContent()) ?? '';
    expect(secret).toMatch(/^fgr_/);
    await page.getByTestId('clients').getByText('made in the browser').waitFor();
    await shot('02-clients');
    expect(await t.tokenFor(secret)).toBeTruthy();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.getByTestId('created-secret').count()).toBe(0);
  });

  it('finds the AuditEvent of its own request in the audit trail', async () => {
    await open('Audit trail');
    await page.getByRole('button', { name: 'Mine' }).click();
    await page.locator('select[name="action"]').selectOption('E');
    const events = page.getByTestId('audit-events');
    // Read events are batched (stored at least every second): search again until it is there.
    await expect.poll(async () => {
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator('[data-testid="audit-events"][aria-busy="false"]').waitFor();
      // The client creation: POST /admin/clients answered 201.
      return events.locator('tbody tr', { hasText: 'client-admin' }).filter({ hasText: '201' }).count();
    }, { timeout: 30_000, interval: 500 }).toBe(1);
    const row = events.locator('tbody tr', { hasText: 'client-admin' }).filter({ hasText: '201' });
    expect(await row.textContent()).toContain('console admin');
    await shot('03-audit');
  });

  it('shows Subscriptions with their status, and markup in a resource as text', async () => {
    await open('Webhooks');
    const cell = page.getByTestId('subscriptions').getByText(MARKUP, { exact: true });
    await cell.waitFor();
    await page.getByTestId('subscriptions').getByRole('button', { name: 'Delivery log' }).first().click();
    await page.getByTestId('delivery-log').waitFor();
    await shot('04-webhooks');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate('window.__injected')).toBeUndefined();
  });

  it('lists exports with their progress', async () => {
    await open('Exports');
    await page.getByTestId('exports').getByText('/fhir/$export?_type=Patient', { exact: false }).waitFor();
    expect(await page.getByTestId('exports').locator('tbody tr').first().textContent()).toMatch(/resources exported/);
    await shot('05-exports');
  });

  it('runs a GraphQL query in the explorer with the signed-in token', async () => {
    await open('GraphQL explorer');
    await page.locator('.graphiql-container').waitFor({ timeout: 30_000 });
    await page.locator('.graphiql-execute-button').click();
    const result = page.locator('.result-window');
    await expect.poll(() => result.textContent(), { timeout: 30_000 }).toContain('Console');
    expect(await result.textContent()).toContain('PatientList');
    await shot('06-explorer');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    // GraphiQL keeps its tabs and settings in memory here, not in the browser's storage.
    expect(await page.evaluate('[localStorage.length, sessionStorage.length]')).toEqual([0, 0]);
  });

  it('broke no Content-Security-Policy rule and raised no error on any page', () => {
    expect(problems).toEqual([]);
  });
});

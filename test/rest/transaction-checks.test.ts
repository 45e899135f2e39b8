/**
 * Issue 15 (REST): a transaction stored a reference to a `urn:uuid:` that no entry defines as is,
 * and took two entries with the same `fullUrl` (bdl-7); conditional interactions said "matched 3
 * resources" when 25 matched (the lookup stops at the second match) and used a different issue
 * code in REST answers and in Bundle entries for the same condition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

const PATIENT_URL = 'urn:uuid:0b8c4d6e-1f2a-4b3c-8d4e-5f6a7b8c9d01';
const OTHER_URL = 'urn:uuid:0b8c4d6e-1f2a-4b3c-8d4e-5f6a7b8c9d02';

const patientEntry = (fullUrl: string, family = 'Tx') => ({
  fullUrl, resource: { resourceType: 'Patient', name: [{ family }] }, request: { method: 'POST', url: 'Patient' },
});
const observationEntry = (subject: string) => ({
  fullUrl: `urn:uuid:${crypto.randomUUID()}`,
  resource: { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: subject } },
  request: { method: 'POST', url: 'Observation' },
});
const bundle = (type: string, entry: unknown[]) => ({ resourceType: 'Bundle', type, entry });

async function observationCount(): Promise<number> {
  return (await fhirFetch(`${t.url}/fhir/Observation?_summary=count`)).body.total;
}

describe('transaction references and fullUrls', () => {
  it('refuses with 400 naming the entry a reference to a urn:uuid no entry defines, and stores nothing', async () => {
    const before = await observationCount();
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle('transaction', [patientEntry(PATIENT_URL), observationEntry(OTHER_URL)]) });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].diagnostics).toContain('Bundle.entry[1]');
    expect(res.body.issue[0].diagnostics).toContain(OTHER_URL);
    expect(res.body.issue[0].expression).toEqual(['Bundle.entry[1].resource.subject.reference']);
    expect(await observationCount()).toBe(before);
  });

  it('still resolves a urn:uuid another entry defines', async () => {
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle('transaction', [observationEntry(PATIENT_URL), patientEntry(PATIENT_URL)]) });
    expect(res.status).toBe(200);
    expect(res.body.entry[0].resource.subject.reference).toBe(`Patient/${res.body.entry[1].resource.id}`);
  });

  it('refuses with 400 two entries with the same fullUrl (bdl-7)', async () => {
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle('transaction', [patientEntry(PATIENT_URL, 'One'), patientEntry(PATIENT_URL, 'Two')]) });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toContain('Bundle.entry[1]');
    expect(res.body.issue[0].diagnostics).toContain('Bundle.entry[0]');
    expect(res.body.issue[0].diagnostics).toContain('bdl-7');
    expect((await fhirFetch(`${t.url}/fhir/Patient?family=One,Two&_summary=count`)).body.total).toBe(0);
  });

  it('refuses a batch with two entries with the same fullUrl too', async () => {
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle('batch', [patientEntry(OTHER_URL, 'Three'), patientEntry(OTHER_URL, 'Four')]) });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toContain('bdl-7');
  });
});

describe('several matches of conditional criteria', () => {
  const identifier = 'http://example.org/dup|shared';
  beforeAll(async () => {
    const entry = Array.from({ length: 25 }, () => ({
      resource: { resourceType: 'Patient', identifier: [{ system: 'http://example.org/dup', value: 'shared' }] },
      request: { method: 'POST', url: 'Patient' },
    }));
    expect((await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle('transaction', entry) })).status).toBe(200);
  });

  function expectMultipleMatches(outcome: any): void {
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0].code).toBe('multiple-matches');
    expect(outcome.issue[0].diagnostics).toMatch(/more than one/);
    expect(outcome.issue[0].diagnostics).not.toMatch(/matched \d|match \d/);
  }

  it('conditional create (If-None-Exist) answers 412 multiple-matches, without a wrong count', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' }, headers: { 'if-none-exist': `identifier=${identifier}` } });
    expect(res.status).toBe(412);
    expectMultipleMatches(res.body);
  });

  it('conditional update and conditional delete answer 412 multiple-matches', async () => {
    const put = await fhirFetch(`${t.url}/fhir/Patient?identifier=${encodeURIComponent(identifier)}`, { method: 'PUT', body: { resourceType: 'Patient' } });
    expect(put.status).toBe(412);
    expectMultipleMatches(put.body);
    const del = await fhirFetch(`${t.url}/fhir/Patient?identifier=${encodeURIComponent(identifier)}`, { method: 'DELETE' });
    expect(del.status).toBe(412);
    expectMultipleMatches(del.body);
  });

  it('a transaction entry and a batch entry report the same code and wording', async () => {
    const entry = [{ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${identifier}` } }];
    const tx = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle('transaction', entry) });
    expect(tx.status).toBe(412);
    expectMultipleMatches(tx.body);
    expect(tx.body.issue[0].diagnostics).toContain('Bundle.entry[0]');
    const batch = await fhirFetch(`${t.url}/fhir`, { method: 'POST', body: bundle('batch', entry) });
    expect(batch.status).toBe(200);
    expect(batch.body.entry[0].response.status).toMatch(/^412/);
    expectMultipleMatches(batch.body.entry[0].response.outcome);
  });
});

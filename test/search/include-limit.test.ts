/**
 * Issue 14 item 12: `_include` and `_revinclude` stopped at 1,000 resources without a word. The
 * cap (`SEARCH_MAX_INCLUDED`, here lowered to 5) is now reported in the Bundle's OperationOutcome
 * entry (search.mode = outcome), and a page within it carries no such entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const MAX_INCLUDED = 5;
let t: TestServer;
let patientId: string;

async function create(resource: Record<string, unknown>): Promise<string> {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status).toBe(201);
  return res.body.id;
}

beforeAll(async () => {
  t = await startTestServer({ limits: { ...DEFAULT_LIMITS, search: { ...DEFAULT_LIMITS.search, maxIncluded: MAX_INCLUDED } } });
  patientId = await create({ resourceType: 'Patient', identifier: [{ system: 'urn:test', value: 'owner' }] });
  for (let i = 0; i < MAX_INCLUDED + 3; i++) {
    const subject = await create({ resourceType: 'Patient', identifier: [{ system: 'urn:test', value: `p${i}` }] });
    await create({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${i < 3 ? patientId : subject}` }, performer: [{ reference: `Patient/${patientId}` }] });
  }
});
afterAll(async () => { await t?.close(); });

const modes = (bundle: any) => bundle.entry.map((e: any) => e.search.mode);
const outcomeOf = (bundle: any) => bundle.entry.find((e: any) => e.search.mode === 'outcome')?.resource;

describe('included resources over SEARCH_MAX_INCLUDED', () => {
  it('says in an OperationOutcome entry that _revinclude left resources out', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient?_id=${patientId}&_revinclude=Observation:performer`);
    expect(res.status).toBe(200);
    expect(modes(res.body).filter((m: string) => m === 'include')).toHaveLength(MAX_INCLUDED);
    expect(outcomeOf(res.body)?.issue).toEqual([expect.objectContaining({ severity: 'warning', code: 'incomplete' })]);
  });

  it('says so for _include too', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Observation?_include=Observation:subject&_count=50`);
    expect(modes(res.body).filter((m: string) => m === 'include')).toHaveLength(MAX_INCLUDED);
    expect(outcomeOf(res.body)?.issue[0].code).toBe('incomplete');
  });

  it('adds no outcome entry when every included resource fits', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient?_id=${patientId}&_revinclude=Observation:subject`);
    expect(modes(res.body)).toEqual(['match', 'include', 'include', 'include']);
  });
});

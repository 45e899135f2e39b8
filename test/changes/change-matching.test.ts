/**
 * Matching changes against subscription criteria, on a real server: one criterion per search
 * parameter type (string, token, date, number, quantity, reference, uri, composite) matching one
 * change and not another; chains and `_has` against the current data; an update matched against
 * the version it wrote and a delete against the version before it (not the current state); and
 * criteria refused up front with 400 and the reason, under the REST search's limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  indexVersion, matchesCriteria, parseChangeCriteria, type ChangeEvent, type ChangeFeed,
} from '../../src/changes/index.ts';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { recordFeed, type FeedRecorder } from '../helpers/feed-recorder.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let feed: ChangeFeed;
let recorder: FeedRecorder;
const ids: Record<string, string> = {};

async function create(name: string, resource: Record<string, unknown>): Promise<string> {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status, res.text).toBe(201);
  ids[name] = res.body.id;
  return res.body.id;
}

const mg = (value: number) => ({ value, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' });
const loinc = (code: string) => ({ coding: [{ system: 'http://loinc.org', code }] });

/** The names (keys of `ids`) of the recorded events of `type` that match `criteria`, as `name action/version`. */
async function matching(type: string, criteria: string, events?: ChangeEvent[]): Promise<string[]> {
  const parsed = parseChangeCriteria(criteria, { resourceType: type, limits: t.config.limits.search, fhirBaseUrl: t.fhirBase });
  const candidates = (events ?? recorder.events).filter((e) => e.resourceType === type);
  const versions = await feed.loadVersions(candidates);
  const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
  const found: string[] = [];
  for (const event of candidates) {
    const matched = versions.get(event.position)?.matched;
    const indexed = matched && indexVersion(matched, t.fhirBase);
    if (indexed && await matchesCriteria(parsed, indexed, t.server.service.db)) found.push(`${names[event.id] ?? event.id} ${event.action}/${event.versionId}`);
  }
  return found;
}

beforeAll(async () => {
  t = await startTestServer();
  feed = t.server.changes.feed;
  recorder = await recordFeed(feed);
  const smith = await create('smith', { resourceType: 'Patient', name: [{ family: 'Smith' }] });
  const jones = await create('jones', { resourceType: 'Patient', name: [{ family: 'Jones' }] });
  await create('high', {
    resourceType: 'Observation', status: 'final', code: loinc('8867-4'), subject: { reference: `Patient/${smith}` },
    effectiveDateTime: '2024-03-01T10:00:00Z', valueQuantity: mg(150),
  });
  await create('low', {
    resourceType: 'Observation', status: 'final', code: loinc('8310-5'), subject: { reference: `Patient/${jones}` },
    effectiveDateTime: '2023-01-01T10:00:00Z', valueQuantity: mg(50),
  });
  await create('likely', { resourceType: 'RiskAssessment', status: 'final', subject: { reference: `Patient/${smith}` }, prediction: [{ probabilityDecimal: 0.8 }] });
  await create('unlikely', { resourceType: 'RiskAssessment', status: 'final', subject: { reference: `Patient/${jones}` }, prediction: [{ probabilityDecimal: 0.2 }] });
  await create('setA', { resourceType: 'ValueSet', status: 'draft', url: 'http://example.org/vs/a' });
  await create('setB', { resourceType: 'ValueSet', status: 'draft', url: 'http://example.org/vs/b' });
  await recorder.waitFor((e) => e.id === ids.setB);
});
afterAll(async () => {
  recorder?.close();
  await t?.close();
});

describe('criteria match a change as the same REST search would find its version', () => {
  it('string: name=smi matches Smith, not Jones', async () => {
    expect(await matching('Patient', 'name=smi')).toEqual(['smith create/1']);
  });

  it('token: code=http://loinc.org|8867-4 matches that code only', async () => {
    expect(await matching('Observation', 'code=http://loinc.org|8867-4')).toEqual(['high create/1']);
    expect(await matching('Observation', 'code:not=http://loinc.org|8867-4')).toEqual(['low create/1']);
  });

  it('date: date=ge2024-01-01 matches the 2024 observation, not the 2023 one', async () => {
    expect(await matching('Observation', 'date=ge2024-01-01')).toEqual(['high create/1']);
  });

  it('number: probability=gt0.5 matches 0.8, not 0.2', async () => {
    expect(await matching('RiskAssessment', 'probability=gt0.5')).toEqual(['likely create/1']);
  });

  it('quantity: value-quantity=gt100|http://unitsofmeasure.org|mg matches 150 mg, not 50 mg', async () => {
    expect(await matching('Observation', 'value-quantity=gt100|http://unitsofmeasure.org|mg')).toEqual(['high create/1']);
  });

  it('reference: subject=Patient/{smith} (and the absolute URL) matches Smith\'s observation only', async () => {
    expect(await matching('Observation', `subject=Patient/${ids.smith}`)).toEqual(['high create/1']);
    expect(await matching('Observation', `subject=${t.fhirBase}/Patient/${ids.smith}`)).toEqual(['high create/1']);
  });

  it('uri: url=http://example.org/vs/a matches that ValueSet, not the other', async () => {
    expect(await matching('ValueSet', 'url=http://example.org/vs/a')).toEqual(['setA create/1']);
  });

  it('composite: code-value-quantity=http://loinc.org|8867-4$gt100 matches the code with its value', async () => {
    expect(await matching('Observation', 'code-value-quantity=http://loinc.org|8867-4$gt100')).toEqual(['high create/1']);
    expect(await matching('Observation', 'code-value-quantity=http://loinc.org|8867-4$lt100')).toEqual([]);
  });

  it('AND of criteria, and the Type? prefix of R4 Subscription.criteria', async () => {
    expect(await matching('Observation', `Observation?code=8867-4&subject=Patient/${ids.jones}`)).toEqual([]);
    expect(await matching('Observation', `Observation?code=8867-4,8310-5&subject=Patient/${ids.jones}`)).toEqual(['low create/1']);
    expect(await matching('Observation', '')).toEqual(['high create/1', 'low create/1']);
  });
});

describe('chains and _has are evaluated against the current data', () => {
  it('chain: subject:Patient.name=smith follows the version\'s reference to the patient as it is now', async () => {
    expect(await matching('Observation', 'subject:Patient.name=smith')).toEqual(['high create/1']);
    const renamed = await fhirFetch(`${t.url}/fhir/Patient/${ids.smith}`, { method: 'PUT', body: { resourceType: 'Patient', id: ids.smith, name: [{ family: 'Brown' }] } });
    expect(renamed.status).toBe(200);
    expect(await matching('Observation', 'subject:Patient.name=smith')).toEqual([]);
    expect(await matching('Observation', 'subject:Patient.name=brown')).toEqual(['high create/1']);
  });

  it('_has: _has:Observation:subject:code=8867-4 matches the patient a live observation with that code refers to', async () => {
    const creates = recorder.events.filter((e) => e.action === 'create');
    expect(await matching('Patient', '_has:Observation:subject:code=8867-4', creates)).toEqual(['smith create/1']);
  });
});

describe('the version a change is matched against', () => {
  it('matches an update against the version it wrote and a delete against the version before it', async () => {
    const id = await create('changing', { resourceType: 'Observation', status: 'final', code: loinc('1111-1') });
    expect((await fhirFetch(`${t.url}/fhir/Observation/${id}`, { method: 'PUT', body: { resourceType: 'Observation', id, status: 'final', code: loinc('2222-2') } })).status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/Observation/${id}`, { method: 'DELETE' })).status).toBe(200);
    await recorder.waitFor((e) => e.id === id && e.action === 'delete');
    // The current state is a deletion: only the versions themselves can answer.
    expect(await matching('Observation', 'code=1111-1')).toEqual(['changing create/1']);
    expect(await matching('Observation', 'code=2222-2')).toEqual(['changing update/2', 'changing delete/3']);
    const events = recorder.events.filter((e) => e.id === id);
    const versions = await feed.loadVersions(events);
    expect(events.map((e) => versions.get(e.position)?.written?.versionId)).toEqual([1, 2, 3]);
    expect(versions.get(events[2].position)?.written?.deleted).toBe(true);
    expect(versions.get(events[2].position)?.matched?.versionId).toBe(2);
  });
});

describe('criteria are checked up front', () => {
  const refused = (criteria: string, type: string | null = 'Observation', limits = DEFAULT_LIMITS.search) => {
    try {
      parseChangeCriteria(criteria, { resourceType: type ?? undefined, limits, fhirBaseUrl: 'http://x/fhir' });
    } catch (err) {
      return { status: (err as { status?: number }).status, message: (err as Error).message };
    }
    return undefined;
  };

  it('refuses with 400 and the reason: unknown parameters and modifiers, malformed values, result parameters, another type', () => {
    expect(refused('colour=red')).toMatchObject({ status: 400, message: expect.stringMatching(/Unknown search parameter "colour"/) });
    expect(refused('code:below=x')).toMatchObject({ status: 400, message: expect.stringMatching(/Modifier :below/) });
    expect(refused('date=yesterday')).toMatchObject({ status: 400, message: expect.stringMatching(/not a FHIR date/) });
    expect(refused('value-quantity=lots')).toMatchObject({ status: 400, message: expect.stringMatching(/not a number/) });
    expect(refused('subject:Patient.name=x&subject.colour=y')).toMatchObject({ status: 400 });
    expect(refused('code=x&_count=5')).toMatchObject({ status: 400, message: expect.stringMatching(/_count shapes search results/) });
    expect(refused('_include=Observation:subject')).toMatchObject({ status: 400 });
    expect(refused('Patient?name=x')).toMatchObject({ status: 400, message: expect.stringMatching(/for Patient, not Observation/) });
    expect(refused('name=x', null)).toMatchObject({ status: 400, message: expect.stringMatching(/must start with a resource type/) });
    expect(refused('Observation?code=x', null)).toBeUndefined();
    expect(refused('_text=x')).toMatchObject({ status: 400 });
  });

  it('applies the REST search limits (SEARCH_MAX_PARAMS, SEARCH_MAX_VALUES, SEARCH_MAX_CRITERIA)', () => {
    const tight = { ...DEFAULT_LIMITS.search, maxParams: 3, maxValues: 2, maxCriteria: 2 };
    expect(refused('code=a&code=b&code=c&code=d', 'Observation', tight)).toMatchObject({ status: 400, message: expect.stringMatching(/at most 3/) });
    expect(refused('code=a,b,c', 'Observation', tight)).toMatchObject({ status: 400, message: expect.stringMatching(/at most 2/) });
    expect(refused('code=a&status=final&category=x', 'Observation', tight)).toMatchObject({ status: 400, message: expect.stringMatching(/more than 2 criteria/) });
    expect(refused('code=a,b', 'Observation', tight)).toBeUndefined();
  });
});

/**
 * `Patient/{id}/$everything` and `Patient/$everything` against a real server: the compartment
 * plus the resources it refers to (also through references no search parameter indexes and
 * absolute ones on this server), another patient's data never mixed in, `_type`, `_since`,
 * `_count` with next links collecting every resource exactly once, types the token may not read
 * left out and reported, a small number of statements whatever the compartment parameters, and
 * clear 400/404 answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientEverything } from '../../src/service/patient-everything.ts';
import { systemContext } from '../../src/service/request-context.ts';
import { countStatements } from '../../src/store/statement-counter.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;

const put = async (resource: Record<string, unknown>) => {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}/${resource.id}`, { method: 'PUT', body: resource });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body;
};

/** Patient `a`'s record: its compartment members and what only they refer to. */
const MEMBERS = ['Patient/a', 'Observation/a-obs1', 'Observation/a-obs2', 'Observation/a-obs3', 'Encounter/a-enc', 'Condition/a-cond', 'MedicationRequest/a-mr'];
const REFERENCED = ['Practitioner/p1', 'Medication/m1', 'Organization/o1', 'Organization/o2'];

beforeAll(async () => {
  t = await startTestServer();
  await put({ resourceType: 'Practitioner', id: 'p1', name: [{ family: 'Only-Referenced' }] });
  await put({ resourceType: 'Practitioner', id: 'p2', name: [{ family: 'Of-Patient-B' }] });
  await put({ resourceType: 'Medication', id: 'm1', code: { text: 'aspirin' } });
  await put({ resourceType: 'Organization', id: 'o1', name: 'Hospital (absolute reference)' });
  await put({ resourceType: 'Organization', id: 'o2', name: 'Pharmacy (extension reference)' });
  await put({ resourceType: 'Patient', id: 'a', name: [{ family: 'Alpha' }] });
  await put({ resourceType: 'Patient', id: 'b', name: [{ family: 'Beta' }] });
  await put({ resourceType: 'Encounter', id: 'a-enc', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/a' },
    serviceProvider: { reference: `${t.fhirBase}/Organization/o1` } });
  for (const n of [1, 2, 3]) {
    await put({ resourceType: 'Observation', id: `a-obs${n}`, status: 'final', code: { text: `obs ${n}` }, subject: { reference: 'Patient/a' },
      encounter: { reference: 'Encounter/a-enc' } });
  }
  // Condition.recorder has no search parameter: only the walk of the stored JSON finds p1.
  await put({ resourceType: 'Condition', id: 'a-cond', subject: { reference: 'Patient/a' }, recorder: { reference: 'Practitioner/p1' },
    note: [{ text: 'refers to a resource that does not exist', authorReference: { reference: 'Practitioner/missing' } }] });
  await put({ resourceType: 'MedicationRequest', id: 'a-mr', status: 'active', intent: 'order', subject: { reference: 'Patient/a' },
    medicationReference: { reference: 'Medication/m1' }, requester: { reference: 'Practitioner/p1' },
    extension: [{ url: 'http://example.org/fhir/dispenser', valueReference: { reference: 'Organization/o2' } }] });
  await put({ resourceType: 'Observation', id: 'b-obs', status: 'final', code: { text: 'b' }, subject: { reference: 'Patient/b' },
    performer: [{ reference: 'Practitioner/p2' }] });
});
afterAll(async () => { await t?.close(); });

const keyOf = (entry: any) => `${entry.resource.resourceType}/${entry.resource.id}`;
const resources = (bundle: any) => bundle.entry.filter((e: any) => e.search.mode !== 'outcome');

/** Follows `next` links from `url`, returning every page. */
async function allPages(url: string, token?: string): Promise<any[]> {
  const pages = [];
  let next: string | undefined = url;
  while (next) {
    const res: { status: number; text: string; body: any } = await fhirFetch(next, { token });
    expect(res.status, res.text).toBe(200);
    pages.push(res.body);
    next = res.body.link.find((l: any) => l.relation === 'next')?.url;
    expect(pages.length).toBeLessThan(50);
  }
  return pages;
}

describe('Patient/{id}/$everything', () => {
  it('answers the compartment (match) and the resources it refers to (include), and nothing of another patient', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/a/$everything`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const entries = resources(res.body);
    const keys = entries.map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual([...MEMBERS, ...REFERENCED].sort());
    for (const entry of entries) {
      expect(entry.search.mode).toBe(MEMBERS.includes(keyOf(entry)) ? 'match' : 'include');
      expect(entry.fullUrl).toBe(`${t.fhirBase}/${keyOf(entry)}`);
    }
    expect(res.text).not.toContain('Of-Patient-B');
    expect(res.body.link.find((l: any) => l.relation === 'next')).toBeUndefined();
  });

  it('collects every resource exactly once through next links with a small _count', async () => {
    const pages = await allPages(`${t.url}/fhir/Patient/a/$everything?_count=3`);
    expect(pages.length).toBe(4);
    for (const page of pages) expect(resources(page).length).toBeLessThanOrEqual(3);
    const keys = pages.flatMap((p) => resources(p).map(keyOf));
    expect(keys.length).toBe(MEMBERS.length + REFERENCED.length);
    expect(new Set(keys)).toEqual(new Set([...MEMBERS, ...REFERENCED]));
  });

  it('keeps only the _type types, in both the compartment and the referenced resources', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/a/$everything?_type=Observation,Medication`);
    expect(resources(res.body).map(keyOf).sort()).toEqual(['Medication/m1', 'Observation/a-obs1', 'Observation/a-obs2', 'Observation/a-obs3']);
    const repeated = await fhirFetch(`${t.url}/fhir/Patient/a/$everything?_type=Patient&_type=Organization`);
    expect(resources(repeated.body).map(keyOf).sort()).toEqual(['Organization/o1', 'Organization/o2', 'Patient/a']);
  });

  it('keeps only resources updated at or after _since', async () => {
    const record = resources((await fhirFetch(`${t.url}/fhir/Patient/a/$everything`)).body);
    const latest = Math.max(...record.map((e: any) => new Date(e.resource.meta.lastUpdated).getTime()));
    const since = new Date(latest + 1).toISOString();
    const before = await fhirFetch(`${t.url}/fhir/Observation/a-obs2`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await put({ ...before.body, status: 'amended' });
    await put({ resourceType: 'Medication', id: 'm1', code: { text: 'aspirin 100 mg' } });
    const res = await fhirFetch(`${t.url}/fhir/Patient/a/$everything?_since=${encodeURIComponent(since)}`);
    expect(res.status).toBe(200);
    expect(resources(res.body).map(keyOf).sort()).toEqual(['Medication/m1', 'Observation/a-obs2']);
  });

  it('takes its parameters in a Parameters body too', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/a/$everything`, {
      method: 'POST', body: { resourceType: 'Parameters', parameter: [{ name: '_type', valueCode: 'Condition' }, { name: '_count', valueInteger: 5 }] },
    });
    expect(res.status).toBe(200);
    expect(resources(res.body).map(keyOf)).toEqual(['Condition/a-cond']);
  });

  it('leaves out the types the token may not read and says so in an outcome entry', async () => {
    const readable = ['Patient', 'Encounter', 'Condition', 'MedicationRequest', 'Medication', 'Organization'];
    const token = await t.tokenWithScope(readable.map((type) => `system/${type}.read`).join(' '));
    const pages = await allPages(`${t.url}/fhir/Patient/a/$everything?_count=4`, token);
    const keys = pages.flatMap((p) => resources(p).map(keyOf));
    expect(keys.sort()).toEqual(['Condition/a-cond', 'Encounter/a-enc', 'MedicationRequest/a-mr', 'Medication/m1', 'Organization/o1', 'Organization/o2', 'Patient/a'].sort());
    const outcomes = pages.flatMap((p) => p.entry.filter((e: any) => e.search.mode === 'outcome'));
    const diagnostics = outcomes.flatMap((o: any) => o.resource.issue.map((i: any) => i.diagnostics)).join('\n');
    expect(diagnostics).toContain('Observation resources were left out');
    expect(diagnostics).toContain('Practitioner resources were left out');
    // Without Patient read, the operation itself is refused.
    const noPatient = await t.tokenWithScope('system/Observation.read');
    expect((await fhirFetch(`${t.url}/fhir/Patient/a/$everything`, { token: noPatient })).status).toBe(403);
  });

  it('costs the same few statements whatever the number of compartment parameters', async () => {
    const ctx = systemContext(t.fhirBase);
    const measure = async (types?: string[]) => {
      const counter = { count: 0 };
      const bundle = await countStatements(counter, () => patientEverything(t.server.service, ctx, 'a', { types }, { maxReferencing: 10_000 }));
      return { statements: counter.count, entries: bundle.entry.length };
    };
    // Every member type (about 100 type/parameter pairs) versus one type with two parameters.
    const all = await measure();
    const observations = await measure(['Observation']);
    console.log(`$everything statements: every type ${all.statements}, Observation only ${observations.statements}`);
    expect(all.entries).toBe(MEMBERS.length + REFERENCED.length);
    expect(observations.entries).toBe(3);
    expect(all.statements).toBeLessThanOrEqual(3);
    expect(observations.statements).toBe(all.statements);
  });

  it('answers 404 for an unknown patient, 410 for a deleted one, 400 for bad parameters', async () => {
    expect((await fhirFetch(`${t.url}/fhir/Patient/nobody/$everything`)).status).toBe(404);
    await put({ resourceType: 'Patient', id: 'gone' });
    await fhirFetch(`${t.url}/fhir/Patient/gone`, { method: 'DELETE' });
    expect((await fhirFetch(`${t.url}/fhir/Patient/gone/$everything`)).status).toBe(410);
    for (const query of ['_count=0', '_count=ten', '_type=Nope', '_type=Observation,', '_since=2024-01-01', 'start=2020-01-01', 'end=2020-01-01', 'foo=bar',
      '_cursor=bm9wZQ', `_cursor=${Buffer.from('{"p":"m","t":"Nope","i":"x"}').toString('base64url')}`]) {
      const res = await fhirFetch(`${t.url}/fhir/Patient/a/$everything?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });
});

describe('Patient/$everything', () => {
  it('walks every patient, page by page, each resource once', async () => {
    const pages = await allPages(`${t.url}/fhir/Patient/$everything?_count=4`);
    const keys = pages.flatMap((p) => resources(p).map(keyOf));
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(keys)).toEqual(new Set([...MEMBERS, ...REFERENCED, 'Patient/b', 'Observation/b-obs', 'Practitioner/p2']));
    expect(pages.every((p) => p.link[0].url.startsWith(`${t.fhirBase}/Patient/$everything?`))).toBe(true);
  });

  it('filters by _type like the instance level', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/$everything?_type=Patient`);
    expect(resources(res.body).map(keyOf).sort()).toEqual(['Patient/a', 'Patient/b']);
  });
});

describe('bounds', () => {
  it('follows the references of at most EVERYTHING_MAX_REFERENCING members and says so', async () => {
    const bundle = await patientEverything(t.server.service, systemContext(t.fhirBase), 'a', {}, { maxReferencing: 2 });
    const outcome = bundle.entry.find((e) => e.search?.mode === 'outcome');
    expect(outcome?.resourceJson).toContain('EVERYTHING_MAX_REFERENCING');
    // The first two members in (type, id) order are Condition/a-cond and Encounter/a-enc: only their references are followed.
    const included = bundle.entry.filter((e) => e.search?.mode === 'include').map((e) => e.fullUrl!.slice(t.fhirBase.length + 1));
    expect(included.sort()).toEqual(['Organization/o1', 'Practitioner/p1']);
  });

  it('pages Patient/$everything across batches of patients, each patient once', async () => {
    for (let i = 0; i < 12; i++) await put({ resourceType: 'Patient', id: `z${String(i).padStart(2, '0')}` });
    const pages = await allPages(`${t.url}/fhir/Patient/$everything?_type=Patient&_count=100`);
    const keys = pages.flatMap((p) => resources(p).map(keyOf));
    expect(keys.length).toBe(14);
    expect(new Set(keys).size).toBe(14);
    expect(pages.length).toBe(2);
  });
});

describe('the CapabilityStatement', () => {
  it('lists everything on Patient only', async () => {
    const statement = (await fhirFetch(`${t.url}/fhir/metadata`, { token: null })).body;
    const typesWith = (name: string) => statement.rest[0].resource.filter((r: any) => r.operation?.some((o: any) => o.name === name)).map((r: any) => r.type);
    expect(typesWith('everything')).toEqual(['Patient']);
    const patient = statement.rest[0].resource.find((r: any) => r.type === 'Patient');
    expect(patient.operation).toContainEqual({ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' });
    expect(statement.rest[0].operation.map((o: any) => o.name)).not.toContain('everything');
  });
});

/**
 * Search over REST against a small fixture set, one test per parameter type, modifier and
 * prefix, checked against the semantics of https://hl7.org/fhir/R4/search.html.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
const ids: Record<string, string> = {};

async function create(key: string, resource: Record<string, unknown>) {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  ids[key] = res.body.id;
}

async function search(query: string, headers: Record<string, string> = {}) {
  const res = await fhirFetch(`${t.url}/fhir/${query}`, { headers });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function matches(query: string): Promise<string[]> {
  const bundle = await search(query);
  return bundle.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.id).sort();
}

function idsOf(...keys: string[]): string[] {
  return keys.map((k) => ids[k]).sort();
}

beforeAll(async () => {
  t = await startTestServer();
  await create('prac', { resourceType: 'Practitioner', name: [{ family: 'Osler', given: ['William'] }] });
  await create('org', { resourceType: 'Organization', name: 'General Hospital' });
  await create('smith', {
    resourceType: 'Patient', name: [{ family: 'Smith', given: ['Anna'] }], gender: 'female', birthDate: '1970-03-15',
    identifier: [{ system: 'http://example.org/mrn', value: 'MRN-1', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] } }],
    generalPractitioner: [{ reference: `Practitioner/${ids.prac}` }], managingOrganization: { reference: `Organization/${ids.org}` },
    address: [{ city: 'Zürich', postalCode: '8001' }], active: true,
  });
  await create('smithson', { resourceType: 'Patient', name: [{ family: 'Smithson', given: ['Bob'] }], gender: 'male', birthDate: '1985', active: false });
  await create('muller', { resourceType: 'Patient', name: [{ family: 'Müller' }], gender: 'other', birthDate: '2001-12-31' });
  const obs = (key: string, code: string, value: number, date: string, subject: string) => create(key, {
    resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }], text: code === '8867-4' ? 'Heart rate' : 'Glucose' },
    subject: { reference: `Patient/${ids[subject]}` }, performer: [{ reference: `Practitioner/${ids.prac}` }],
    effectiveDateTime: date, valueQuantity: { value, unit: code === '8867-4' ? '/min' : 'mg/dL', system: 'http://unitsofmeasure.org', code: code === '8867-4' ? '/min' : 'mg/dL' },
  });
  await obs('hr1', '8867-4', 72, '2024-01-10T08:00:00Z', 'smith');
  await obs('hr2', '8867-4', 95, '2024-06-01T08:00:00Z', 'smith');
  await obs('glu', '2339-0', 5.4, '2023-05-05', 'smithson');
}, 60_000);
afterAll(async () => { await t?.close(); });

describe('string', () => {
  it('matches starts-with, case- and accent-insensitively', async () => {
    expect(await matches('Patient?name=smith')).toEqual(idsOf('smith', 'smithson'));
    expect(await matches('Patient?family=SMITHS')).toEqual(idsOf('smithson'));
    expect(await matches('Patient?name=muller')).toEqual(idsOf('muller'));
    expect(await matches('Patient?address-city=zurich')).toEqual(idsOf('smith'));
  });
  it(':exact and :contains', async () => {
    expect(await matches('Patient?family:exact=Smith')).toEqual(idsOf('smith'));
    expect(await matches('Patient?family:exact=smith')).toEqual([]);
    expect(await matches('Patient?family:contains=ithso')).toEqual(idsOf('smithson'));
  });
});

describe('token', () => {
  it('code, system|code, |code and system|', async () => {
    expect(await matches('Patient?gender=female')).toEqual(idsOf('smith'));
    expect(await matches('Observation?code=http://loinc.org|8867-4')).toEqual(idsOf('hr1', 'hr2'));
    expect(await matches('Observation?code=8867-4')).toEqual(idsOf('hr1', 'hr2'));
    expect(await matches('Observation?code=|8867-4')).toEqual([]);
    expect(await matches('Observation?code=http://loinc.org|')).toEqual(idsOf('hr1', 'hr2', 'glu'));
    expect(await matches('Patient?identifier=http://example.org/mrn|MRN-1')).toEqual(idsOf('smith'));
    expect(await matches('Patient?active=true')).toEqual(idsOf('smith'));
  });
  it(':not, :text, :of-type and :missing', async () => {
    expect(await matches('Patient?gender:not=female')).toEqual(idsOf('smithson', 'muller'));
    expect(await matches('Observation?code:text=heart')).toEqual(idsOf('hr1', 'hr2'));
    expect(await matches('Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|MRN-1')).toEqual(idsOf('smith'));
    expect(await matches('Patient?active:missing=true')).toEqual(idsOf('muller'));
    expect(await matches('Patient?active:missing=false')).toEqual(idsOf('smith', 'smithson'));
  });
  it('ORs comma-separated values and ANDs repeated parameters', async () => {
    expect(await matches('Patient?gender=female,male')).toEqual(idsOf('smith', 'smithson'));
    expect(await matches('Patient?name=smith&gender=male')).toEqual(idsOf('smithson'));
  });
});

describe('date', () => {
  it('covers the whole precision of the search value', async () => {
    expect(await matches('Patient?birthdate=1970')).toEqual(idsOf('smith'));
    expect(await matches('Patient?birthdate=1970-03')).toEqual(idsOf('smith'));
    expect(await matches('Patient?birthdate=1985-06-01')).toEqual([]);
    expect(await matches('Observation?date=2024-01-10')).toEqual(idsOf('hr1'));
  });
  it('applies every prefix', async () => {
    expect(await matches('Patient?birthdate=ge1985')).toEqual(idsOf('smithson', 'muller'));
    expect(await matches('Patient?birthdate=gt1985')).toEqual(idsOf('muller'));
    expect(await matches('Patient?birthdate=lt1985')).toEqual(idsOf('smith'));
    expect(await matches('Patient?birthdate=le1985')).toEqual(idsOf('smith', 'smithson'));
    expect(await matches('Patient?birthdate=ne1985')).toEqual(idsOf('smith', 'muller'));
    expect(await matches('Patient?birthdate=sa1985-06-01')).toEqual(idsOf('muller'));
    expect(await matches('Patient?birthdate=eb1985-06-01')).toEqual(idsOf('smith'));
    expect(await matches('Patient?birthdate=ap1970-03-10')).toEqual(idsOf('smith'));
    expect(await matches('Observation?date=ge2024-01-01&date=lt2024-02-01')).toEqual(idsOf('hr1'));
  });
});

describe('quantity and number', () => {
  it('compares values with prefixes and units', async () => {
    expect(await matches('Observation?value-quantity=gt80')).toEqual(idsOf('hr2'));
    expect(await matches('Observation?value-quantity=72')).toEqual(idsOf('hr1'));
    expect(await matches('Observation?value-quantity=5.4|http://unitsofmeasure.org|mg/dL')).toEqual(idsOf('glu'));
    expect(await matches('Observation?value-quantity=le100||/min')).toEqual(idsOf('hr1', 'hr2'));
    // 5 covers [4.5, 5.5) by its precision, so it matches 5.4; 5.0 covers [4.95, 5.05) and does not.
    expect(await matches('Observation?value-quantity=5|http://unitsofmeasure.org|mg/dL')).toEqual(idsOf('glu'));
    expect(await matches('Observation?value-quantity=5.0|http://unitsofmeasure.org|mg/dL')).toEqual([]);
  });
  it('matches composites such as code-value-quantity', async () => {
    expect(await matches('Observation?code-value-quantity=http://loinc.org|8867-4$gt80')).toEqual(idsOf('hr2'));
    expect(await matches('Observation?code-value-quantity=8867-4$lt80')).toEqual(idsOf('hr1'));
    expect(await matches('Observation?code-value-quantity=2339-0$gt80')).toEqual([]);
  });
});

describe('reference', () => {
  it('Type/id, id with a type modifier, absolute URLs of this server, :missing', async () => {
    expect(await matches(`Observation?subject=Patient/${ids.smith}`)).toEqual(idsOf('hr1', 'hr2'));
    expect(await matches(`Observation?subject:Patient=${ids.smithson}`)).toEqual(idsOf('glu'));
    expect(await matches(`Observation?subject=${t.fhirBase}/Patient/${ids.smith}`)).toEqual(idsOf('hr1', 'hr2'));
    expect(await matches(`Observation?patient=${ids.smith}`)).toEqual(idsOf('hr1', 'hr2'));
    expect(await matches('Patient?general-practitioner:missing=true')).toEqual(idsOf('smithson', 'muller'));
  });
  it('chains and reverse-chains', async () => {
    expect(await matches('Observation?subject:Patient.name=smithson')).toEqual(idsOf('glu'));
    expect(await matches('Observation?patient.gender=female')).toEqual(idsOf('hr1', 'hr2'));
    expect(await matches('Patient?general-practitioner.name=osler')).toEqual(idsOf('smith'));
    expect(await matches('Patient?_has:Observation:subject:code=2339-0')).toEqual(idsOf('smithson'));
  });
});

describe('number, uri, :identifier and the meta parameters', () => {
  beforeAll(async () => {
    await create('risk', { resourceType: 'RiskAssessment', status: 'final', subject: { reference: `Patient/${ids.smith}` }, prediction: [{ probabilityDecimal: 0.80 }] });
    await create('vs', {
      resourceType: 'ValueSet', status: 'active', url: 'http://example.org/fhir/ValueSet/colours',
      meta: { tag: [{ system: 'http://example.org/tags', code: 'seed' }], profile: ['http://example.org/fhir/StructureDefinition/my-vs'], security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }], source: 'http://example.org/source#1' },
    });
    await create('enc', { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { identifier: { system: 'http://example.org/mrn', value: 'MRN-9' } } });
  });
  it('number with prefixes and implicit precision', async () => {
    expect(await matches('RiskAssessment?probability=0.8')).toEqual(idsOf('risk'));
    expect(await matches('RiskAssessment?probability=gt0.5')).toEqual(idsOf('risk'));
    expect(await matches('RiskAssessment?probability=lt0.5')).toEqual([]);
    expect(await matches('RiskAssessment?probability=0.85')).toEqual([]);
  });
  it('quantities from a Range match on their bounds', async () => {
    const age = (value: number) => ({ value, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' });
    await create('teen', { resourceType: 'Condition', subject: { reference: `Patient/${ids.smith}` }, onsetRange: { low: age(10), high: age(20) } });
    await create('older', { resourceType: 'Condition', subject: { reference: `Patient/${ids.smith}` }, onsetRange: { low: age(50) } });
    expect(await matches('Condition?onset-age=gt15')).toEqual(idsOf('teen', 'older'));
    expect(await matches('Condition?onset-age=15')).toEqual([]);
    expect(await matches('Condition?onset-age=gt60')).toEqual(idsOf('older'));
    expect(await matches('Condition?onset-age=lt30||a')).toEqual(idsOf('teen'));
  });
  it('uri exact, :below and :above', async () => {
    expect(await matches('ValueSet?url=http://example.org/fhir/ValueSet/colours')).toEqual(idsOf('vs'));
    expect(await matches('ValueSet?url=http://example.org/fhir/ValueSet')).toEqual([]);
    expect(await matches('ValueSet?url:below=http://example.org/fhir/')).toEqual(idsOf('vs'));
    expect(await matches('ValueSet?url:above=http://example.org/fhir/ValueSet/colours/v2')).toEqual(idsOf('vs'));
  });
  it('reference :identifier', async () => {
    expect(await matches('Encounter?subject:identifier=http://example.org/mrn|MRN-9')).toEqual(idsOf('enc'));
    expect(await matches('Encounter?subject:identifier=http://example.org/mrn|MRN-1')).toEqual([]);
  });
  it('_tag, _profile, _security and _source', async () => {
    expect(await matches('ValueSet?_tag=http://example.org/tags|seed')).toEqual(idsOf('vs'));
    expect(await matches('ValueSet?_profile=http://example.org/fhir/StructureDefinition/my-vs')).toEqual(idsOf('vs'));
    expect(await matches('ValueSet?_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N')).toEqual(idsOf('vs'));
    expect(await matches('ValueSet?_source=http://example.org/source%231')).toEqual(idsOf('vs'));
    expect(await matches('ValueSet?_tag=http://example.org/tags|other')).toEqual([]);
  });
});

describe('result parameters', () => {
  it('_id and _lastUpdated', async () => {
    expect(await matches(`Patient?_id=${ids.smith},${ids.muller}`)).toEqual(idsOf('smith', 'muller'));
    expect(await matches('Patient?_lastUpdated=gt2000-01-01')).toEqual(idsOf('smith', 'smithson', 'muller'));
  });
  it('_sort on several keys with - for descending', async () => {
    const asc = await search('Patient?_sort=birthdate');
    expect(asc.entry.map((e: any) => e.resource.id)).toEqual([ids.smith, ids.smithson, ids.muller]);
    const desc = await search('Patient?_sort=-birthdate');
    expect(desc.entry.map((e: any) => e.resource.id)).toEqual([ids.muller, ids.smithson, ids.smith]);
    const byGender = await search('Patient?_sort=gender,-birthdate');
    expect(byGender.entry.map((e: any) => e.resource.gender)).toEqual(['female', 'male', 'other']);
  });
  it('_count with next and previous links that page through everything', async () => {
    const first = await search('Observation?_count=2&_sort=date');
    expect(first.entry.map((e: any) => e.resource.id)).toEqual([ids.glu, ids.hr1]);
    const next = first.link.find((l: any) => l.relation === 'next').url.replace(t.config.publicUrl, t.url);
    const second = (await fhirFetch(next)).body;
    expect(second.entry.map((e: any) => e.resource.id)).toEqual([ids.hr2]);
    expect(second.link.find((l: any) => l.relation === 'next')).toBeUndefined();
    const previous = second.link.find((l: any) => l.relation === 'previous').url.replace(t.config.publicUrl, t.url);
    expect((await fhirFetch(previous)).body.entry.map((e: any) => e.resource.id)).toEqual([ids.glu, ids.hr1]);
  });
  it('_total and _summary=count', async () => {
    expect((await search('Patient?_total=accurate')).total).toBe(3);
    expect((await search('Patient?_total=estimate')).total).toBeGreaterThanOrEqual(1);
    const count = await search('Patient?gender=female&_summary=count');
    expect(count.total).toBe(1);
    expect(count.entry).toEqual([]);
  });
  it('_elements and _summary=true mark the resource SUBSETTED', async () => {
    const elements = await search(`Patient?_id=${ids.smith}&_elements=gender`);
    const resource = elements.entry[0].resource;
    expect(resource.gender).toBe('female');
    expect(resource.name).toBeUndefined();
    expect(resource.meta.tag).toEqual([expect.objectContaining({ code: 'SUBSETTED' })]);
    const summary = (await search(`Patient?_id=${ids.smith}&_summary=true`)).entry[0].resource;
    expect(summary.name).toBeDefined();
  });
  it('_include and _revinclude, marked include', async () => {
    const bundle = await search(`Observation?_id=${ids.hr1}&_include=Observation:subject&_include=Observation:performer`);
    const modes = bundle.entry.map((e: any) => `${e.search.mode} ${e.resource.resourceType}`).sort();
    expect(modes).toEqual(['include Patient', 'include Practitioner', 'match Observation']);
    const rev = await search(`Patient?_id=${ids.smith}&_revinclude=Observation:subject`);
    expect(rev.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource.id).sort()).toEqual(idsOf('hr1', 'hr2'));
  });
  it('_include=* and _include:iterate', async () => {
    const all = await search(`Observation?_id=${ids.hr1}&_include=*`);
    expect(all.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource.resourceType).sort()).toEqual(['Patient', 'Practitioner']);
    const iterate = await search(`Observation?_id=${ids.hr1}&_include=Observation:subject&_include:iterate=Patient:organization`);
    expect(iterate.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource.resourceType).sort()).toEqual(['Organization', 'Patient']);
  });
  it('_summary=text and _summary=data', async () => {
    const text = (await search(`Patient?_id=${ids.smith}&_summary=text`)).entry[0].resource;
    expect(text.gender).toBeUndefined();
    const data = (await search(`Patient?_id=${ids.smith}&_summary=data`)).entry[0].resource;
    expect(data.gender).toBe('female');
    expect(data.text).toBeUndefined();
  });
  it('POST _search with a form body, and system search with _type', async () => {
    const res = await fetch(`${t.url}/fhir/Patient/_search`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${t.adminToken}` }, body: 'gender=male',
    });
    expect(((await res.json()) as any).entry.map((e: any) => e.resource.id)).toEqual([ids.smithson]);
    const system = await search('?_type=Practitioner,Organization');
    expect(system.entry.map((e: any) => e.resource.resourceType).sort()).toEqual(['Organization', 'Practitioner']);
  });
  it('searches a compartment: GET /fhir/Patient/{id}/Observation', async () => {
    expect(await matches(`Patient/${ids.smith}/Observation`)).toEqual(idsOf('hr1', 'hr2'));
    expect(await matches(`Patient/${ids.smith}/Observation?value-quantity=gt80`)).toEqual(idsOf('hr2'));
    expect(await matches(`Practitioner/${ids.prac}/Observation`)).toEqual(idsOf('hr1', 'hr2', 'glu'));
    expect((await fhirFetch(`${t.url}/fhir/Patient/${ids.smith}/Organization`)).status).toBe(404);
  });
  it('ignores and reports unknown parameters, or refuses them with handling=strict', async () => {
    const lenient = await search('Patient?gender=female&frobnicate=1');
    expect(lenient.entry.filter((e: any) => e.search.mode === 'match')).toHaveLength(1);
    const outcome = lenient.entry.find((e: any) => e.search.mode === 'outcome').resource;
    expect(outcome.issue[0].diagnostics).toContain('frobnicate');
    const strict = await fhirFetch(`${t.url}/fhir/Patient?frobnicate=1`, { headers: { prefer: 'handling=strict' } });
    expect(strict.status).toBe(400);
  });
  it('keeps values full of SQL metacharacters harmless', async () => {
    expect(await matches(`Patient?name=${encodeURIComponent("x'; DROP TABLE resource;--")}`)).toEqual([]);
    expect(await matches(`Patient?family:contains=${encodeURIComponent('%_\\')}`)).toEqual([]);
    expect((await search('Patient')).entry.length).toBe(3);
  });
});

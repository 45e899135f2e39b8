import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let fhir: string;
const GENDER = 'http://hl7.org/fhir/ValueSet/administrative-gender';
const CS_URL = 'http://clinic.example.org/CodeSystem/appointment-types';
const VS_URL = 'http://clinic.example.org/ValueSet/appointment-types';
const VS_CONSULT_URL = 'http://clinic.example.org/ValueSet/consultations';
let vsId: string;

/** A clinic's own appointment types, with a hierarchy: consult → (first, follow-up → (remote)), and a checkup. */
const clinicCodeSystem = (version: string, extraDisplay = '') => ({
  resourceType: 'CodeSystem', url: CS_URL, version, name: 'AppointmentTypes', status: 'active', content: 'complete', hierarchyMeaning: 'is-a',
  concept: [
    { code: 'consult', display: `Consultation${extraDisplay}`, definition: 'Any consultation',
      designation: [{ language: 'de', value: 'Konsultation' }],
      concept: [
        { code: 'consult-first', display: 'First consultation' },
        { code: 'consult-follow', display: 'Follow-up consultation', concept: [{ code: 'consult-remote', display: 'Remote follow-up', property: [{ code: 'status', valueCode: 'retired' }] }] },
      ] },
    { code: 'checkup', display: 'Annual check-up' },
  ],
});

const parameter = (body: any, name: string) => body.parameter.filter((p: any) => p.name === name);
const codes = (body: any) => (body.expansion.contains ?? []).map((c: any) => c.code);

beforeAll(async () => {
  t = await startTestServer();
  fhir = `${t.url}/fhir`;
  for (const body of [clinicCodeSystem('1.0.0'), clinicCodeSystem('2.0.0', ' (v2)')]) {
    expect((await fhirFetch(`${fhir}/CodeSystem`, { method: 'POST', body })).status).toBe(201);
  }
  const vs = await fhirFetch(`${fhir}/ValueSet`, { method: 'POST', body: { resourceType: 'ValueSet', url: VS_URL, version: '1', status: 'active', compose: { include: [{ system: CS_URL, version: '2.0.0' }] } } });
  expect(vs.status).toBe(201);
  vsId = vs.body.id;
  const consult = await fhirFetch(`${fhir}/ValueSet`, {
    method: 'POST',
    body: { resourceType: 'ValueSet', url: VS_CONSULT_URL, status: 'active', compose: { include: [{ system: CS_URL, version: '2.0.0', filter: [{ property: 'concept', op: 'is-a', value: 'consult-follow' }] }] } },
  });
  expect(consult.status).toBe(201);
});
afterAll(async () => { await t?.close(); });

describe('$expand', () => {
  it('expands a shipped value set by url, with displays and the expansion metadata', async () => {
    const res = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}`);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('ValueSet');
    expect(res.body.url).toBe(GENDER);
    expect(res.body.expansion.total).toBe(4);
    expect(res.body.expansion.offset).toBe(0);
    expect(res.body.expansion.identifier).toMatch(/^urn:uuid:/);
    expect(Number.isNaN(Date.parse(res.body.expansion.timestamp))).toBe(false);
    expect(res.body.expansion.contains).toEqual(expect.arrayContaining([{ system: 'http://hl7.org/fhir/administrative-gender', version: '4.0.1', code: 'female', display: 'Female' }]));
    expect(codes(res.body).sort()).toEqual(['female', 'male', 'other', 'unknown']);
  });

  it('filters by word prefix, case-insensitively, and pages with count and offset', async () => {
    const filtered = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}&filter=FEM`);
    expect(codes(filtered.body)).toEqual(['female']);
    expect(parameter(filtered.body.expansion, 'filter')).toEqual([{ name: 'filter', valueString: 'FEM' }]);
    const noMatch = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}&filter=emale`);
    expect(noMatch.body.expansion.total).toBe(0);
    const all = codes((await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}`)).body);
    const page1 = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}&count=2`);
    const page2 = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}&count=2&offset=2`);
    expect(page1.body.expansion.total).toBe(4);
    expect(page2.body.expansion.offset).toBe(2);
    expect([...codes(page1.body), ...codes(page2.body)]).toEqual(all);
  });

  it('expands a stored value set including a stored code system, by url, by url|version and by id', async () => {
    const byUrl = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(VS_URL)}`);
    expect(byUrl.status).toBe(200);
    expect(codes(byUrl.body)).toEqual(['consult', 'consult-first', 'consult-follow', 'consult-remote', 'checkup']);
    // The include pins CodeSystem version 2.0.0, whose display differs from 1.0.0's.
    expect(byUrl.body.expansion.contains[0]).toEqual({ system: CS_URL, version: '2.0.0', code: 'consult', display: 'Consultation (v2)' });
    const byVersion = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(`${VS_URL}|1`)}`);
    expect(codes(byVersion.body)).toEqual(codes(byUrl.body));
    const byVersionParam = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(VS_URL)}&valueSetVersion=1`);
    expect(byVersionParam.status).toBe(200);
    expect((await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(`${VS_URL}|9`)}`)).status).toBe(404);
    const byId = await fhirFetch(`${fhir}/ValueSet/${vsId}/$expand?activeOnly=true&includeDesignations=true`);
    expect(byId.status).toBe(200);
    expect(byId.body.id).toBe(vsId);
    expect(codes(byId.body)).toEqual(['consult', 'consult-first', 'consult-follow', 'checkup']);
    expect(byId.body.expansion.contains[0].designation).toEqual([{ language: 'de', value: 'Konsultation' }]);
  });

  it('applies an is-a filter of a stored value set, and a POSTed valueSet', async () => {
    const res = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(VS_CONSULT_URL)}`);
    expect(codes(res.body)).toEqual(['consult-follow', 'consult-remote']);
    const posted = await fhirFetch(`${fhir}/ValueSet/$expand`, {
      method: 'POST',
      body: { resourceType: 'Parameters', parameter: [
        { name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'draft', compose: {
          include: [{ valueSet: [VS_URL] }],
          exclude: [{ system: CS_URL, version: '2.0.0', filter: [{ property: 'concept', op: 'is-a', value: 'consult-follow' }] }] } } },
        { name: 'count', valueInteger: 10 },
      ] },
    });
    expect(posted.status).toBe(200);
    expect(codes(posted.body)).toEqual(['consult', 'consult-first', 'checkup']);
  });

  it('answers 404 for an unknown value set and 400 for bad parameters', async () => {
    const unknown = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent('http://nowhere.example.org/vs')}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.resourceType).toBe('OperationOutcome');
    expect((await fhirFetch(`${fhir}/ValueSet/$expand`)).status).toBe(400);
    expect((await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}&count=-1`)).status).toBe(400);
    expect((await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}&count=ten`)).status).toBe(400);
    expect((await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}&nonsense=1`)).status).toBe(400);
    expect((await fhirFetch(`${fhir}/ValueSet/${vsId}/$expand?url=${encodeURIComponent(GENDER)}`)).status).toBe(400);
    expect((await fhirFetch(`${fhir}/ValueSet/missing/$expand`)).status).toBe(404);
    const invalid = await fhirFetch(`${fhir}/ValueSet/$expand`, { method: 'POST', body: { resourceType: 'Parameters', parameter: [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'nope' } }] } });
    expect(invalid.status).toBe(422);
  });

  it('refuses what it cannot expand with 422: SNOMED CT whole-system includes, unsupported filters', async () => {
    const snomed = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent('http://hl7.org/fhir/ValueSet/clinical-findings')}`);
    expect(snomed.status).toBe(422);
    expect(snomed.body.issue[0].diagnostics).toContain('http://snomed.info/sct');
    const regex = await fhirFetch(`${fhir}/ValueSet/$expand`, {
      method: 'POST',
      body: { resourceType: 'Parameters', parameter: [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'draft', compose: { include: [{ system: CS_URL, filter: [{ property: 'code', op: 'regex', value: '(a+)+$' }] }] } } }] },
    });
    expect(regex.status).toBe(422);
    expect(regex.body.issue[0].code).toBe('not-supported');
  });

  it('needs read on ValueSet, and leaves out stored code systems the token may not read', async () => {
    const none = await t.tokenWithScope('system/Patient.read');
    expect((await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}`, { token: none })).status).toBe(403);
    const vsOnly = await t.tokenWithScope('system/ValueSet.read');
    expect((await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(GENDER)}`, { token: vsOnly })).status).toBe(200);
    const stored = await fhirFetch(`${fhir}/ValueSet/$expand?url=${encodeURIComponent(VS_URL)}`, { token: vsOnly });
    expect(stored.status).toBe(422);
    expect(stored.body.issue[0].diagnostics).toContain('may not read');
  });

  it('records the value set and code system it read in the AuditEvent', async () => {
    await fhirFetch(`${fhir}/ValueSet/${vsId}/$expand`);
    // The AuditEvent is written once the answer is sent: wait for it.
    let entities: string[] = [];
    for (let i = 0; i < 50 && !entities.some((r) => r?.startsWith('CodeSystem/')); i++) {
      const audit = await fhirFetch(`${fhir}/AuditEvent?entity=ValueSet/${vsId}&_count=100`);
      entities = (audit.body.entry ?? []).flatMap((e: any) => e.resource.entity.map((x: any) => x.what?.reference));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(entities).toEqual(expect.arrayContaining([`ValueSet/${vsId}`]));
    expect(entities.some((r) => r?.startsWith('CodeSystem/'))).toBe(true);
  });
});

describe('$lookup', () => {
  it('looks up a shipped code: display, definition, designations and hierarchy properties', async () => {
    const res = await fhirFetch(`${fhir}/CodeSystem/$lookup?system=${encodeURIComponent('http://terminology.hl7.org/CodeSystem/v3-ActCode')}&code=ACCTRECEIVABLE`);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('Parameters');
    expect(parameter(res.body, 'name')[0].valueString).toBe('v3.ActCode');
    expect(parameter(res.body, 'display')[0].valueString).toBe('account receivable');
    const props = parameter(res.body, 'property').map((p: any) => [p.part[0].valueCode, p.part[1]]);
    expect(props).toEqual(expect.arrayContaining([['parent', { name: 'value', valueCode: '_ActAccountCode' }], ['definition', expect.objectContaining({ name: 'value' })]]));
    const category = await fhirFetch(`${fhir}/CodeSystem/$lookup?coding=${encodeURIComponent('http://terminology.hl7.org/CodeSystem/observation-category|vital-signs')}`);
    expect(parameter(category.body, 'display')[0].valueString).toBe('Vital Signs');
  });

  it('looks up a stored code by system and version, POST and GET, and narrows properties', async () => {
    const res = await fhirFetch(`${fhir}/CodeSystem/$lookup`, {
      method: 'POST',
      body: { resourceType: 'Parameters', parameter: [{ name: 'coding', valueCoding: { system: CS_URL, version: '1.0.0', code: 'consult' } }] },
    });
    expect(res.status).toBe(200);
    expect(parameter(res.body, 'version')[0].valueString).toBe('1.0.0');
    expect(parameter(res.body, 'display')[0].valueString).toBe('Consultation');
    expect(parameter(res.body, 'designation')[0].part).toEqual([{ name: 'language', valueCode: 'de' }, { name: 'value', valueString: 'Konsultation' }]);
    const children = parameter(res.body, 'property').filter((p: any) => p.part[0].valueCode === 'child').map((p: any) => p.part[1].valueCode);
    expect(children).toEqual(['consult-first', 'consult-follow']);
    const narrowed = await fhirFetch(`${fhir}/CodeSystem/$lookup?system=${encodeURIComponent(`${CS_URL}|2.0.0`)}&code=consult-remote&property=status`);
    expect(parameter(narrowed.body, 'display')[0].valueString).toBe('Remote follow-up');
    expect(parameter(narrowed.body, 'property').map((p: any) => p.part)).toEqual([[{ name: 'code', valueCode: 'status' }, { name: 'value', valueCode: 'retired' }]]);
  });

  it('answers 404 for an unknown code or system, and 400 without a code or system', async () => {
    const code = await fhirFetch(`${fhir}/CodeSystem/$lookup?system=${encodeURIComponent(CS_URL)}&code=nope`);
    expect(code.status).toBe(404);
    expect(code.body.issue[0].diagnostics).toContain('Unable to find code');
    expect((await fhirFetch(`${fhir}/CodeSystem/$lookup?system=${encodeURIComponent('http://nowhere.example.org/cs')}&code=a`)).status).toBe(404);
    expect((await fhirFetch(`${fhir}/CodeSystem/$lookup?code=a`)).status).toBe(400);
    expect((await fhirFetch(`${fhir}/CodeSystem/$lookup?system=x`)).status).toBe(400);
  });
});

describe('$validate-code', () => {
  const validate = async (query: string) => fhirFetch(`${fhir}/ValueSet/$validate-code?${query}`);
  const result = (body: any) => parameter(body, 'result')[0].valueBoolean;

  it('says true for a code in a shipped value set, with its display, and false otherwise', async () => {
    const ok = await validate(`url=${encodeURIComponent(GENDER)}&system=${encodeURIComponent('http://hl7.org/fhir/administrative-gender')}&code=female`);
    expect(ok.status).toBe(200);
    expect(result(ok.body)).toBe(true);
    expect(parameter(ok.body, 'display')[0].valueString).toBe('Female');
    const bad = await validate(`url=${encodeURIComponent(GENDER)}&system=${encodeURIComponent('http://hl7.org/fhir/administrative-gender')}&code=robot`);
    expect(result(bad.body)).toBe(false);
    expect(parameter(bad.body, 'message')[0].valueString).toContain('robot');
    const wrongSystem = await validate(`url=${encodeURIComponent(GENDER)}&system=http://other.example.org&code=female`);
    expect(result(wrongSystem.body)).toBe(false);
    const wrongDisplay = await validate(`url=${encodeURIComponent(GENDER)}&system=${encodeURIComponent('http://hl7.org/fhir/administrative-gender')}&code=female&display=Woman`);
    expect(result(wrongDisplay.body)).toBe(false);
    expect(parameter(wrongDisplay.body, 'message')[0].valueString).toContain('"Female"');
  });

  it('checks a codeableConcept (any coding) and a coding against a stored value set by id', async () => {
    const body = (codings: any[]) => ({ resourceType: 'Parameters', parameter: [{ name: 'codeableConcept', valueCodeableConcept: { coding: codings } }] });
    const any = await fhirFetch(`${fhir}/ValueSet/${vsId}/$validate-code`, { method: 'POST', body: body([{ system: 'http://x', code: 'y' }, { system: CS_URL, code: 'checkup' }]) });
    expect(any.status).toBe(200);
    expect(result(any.body)).toBe(true);
    expect(parameter(any.body, 'display')[0].valueString).toBe('Annual check-up');
    const none = await fhirFetch(`${fhir}/ValueSet/${vsId}/$validate-code`, { method: 'POST', body: body([{ system: CS_URL, code: 'surgery' }]) });
    expect(result(none.body)).toBe(false);
    const coding = await fhirFetch(`${fhir}/ValueSet/$validate-code`, {
      method: 'POST',
      body: { resourceType: 'Parameters', parameter: [{ name: 'url', valueUri: VS_CONSULT_URL }, { name: 'coding', valueCoding: { system: CS_URL, code: 'consult-first' } }] },
    });
    expect(result(coding.body)).toBe(false);
    const designation = await validate(`url=${encodeURIComponent(VS_URL)}&system=${encodeURIComponent(CS_URL)}&code=consult&display=Konsultation`);
    expect(result(designation.body)).toBe(true);
  });

  it('answers 400 for missing or conflicting codes and 404 for an unknown value set', async () => {
    expect((await validate(`url=${encodeURIComponent(GENDER)}`)).status).toBe(400);
    expect((await validate(`url=${encodeURIComponent(GENDER)}&code=female`)).status).toBe(400);
    expect((await validate(`url=${encodeURIComponent(GENDER)}&code=female&system=x&coding=x|female`)).status).toBe(400);
    expect((await validate(`url=${encodeURIComponent(GENDER)}&codeableConcept=x`)).status).toBe(400);
    expect((await validate(`url=${encodeURIComponent('http://nowhere.example.org/vs')}&system=x&code=y`)).status).toBe(404);
  });
});

describe('the CapabilityStatement', () => {
  it('lists $expand and $validate-code on ValueSet only and $lookup on CodeSystem only', async () => {
    const statement = (await fhirFetch(`${fhir}/metadata`, { token: null })).body;
    const ops = (type: string) => (statement.rest[0].resource.find((r: any) => r.type === type).operation ?? []).map((o: any) => o.name);
    expect(ops('ValueSet')).toEqual(expect.arrayContaining(['expand', 'validate-code']));
    expect(ops('ValueSet')).not.toContain('lookup');
    expect(ops('CodeSystem')).toContain('lookup');
    expect(ops('CodeSystem')).not.toContain('expand');
    expect(ops('Patient')).not.toEqual(expect.arrayContaining(['expand']));
    expect(ops('Patient')).not.toContain('lookup');
    expect(ops('Patient')).not.toContain('validate-code');
    const expand = statement.rest[0].resource.find((r: any) => r.type === 'ValueSet').operation.find((o: any) => o.name === 'expand');
    expect(expand.definition).toBe('http://hl7.org/fhir/OperationDefinition/ValueSet-expand');
  });
});

// Last: starting a second server makes its admin token fhirFetch's default.
describe('the expansion cap', () => {
  it('answers 422 too-costly beyond TERMINOLOGY_MAX_EXPANSION without paging, and pages within it', async () => {
    const small = await startTestServer({ terminology: { maxExpansion: 3 } });
    try {
      const url = `${small.url}/fhir/ValueSet/$expand?url=${encodeURIComponent(GENDER)}`;
      const big = await fhirFetch(url, { token: small.adminToken });
      expect(big.status).toBe(422);
      expect(big.body.issue[0].code).toBe('too-costly');
      const paged = await fhirFetch(`${url}&count=3`, { token: small.adminToken });
      expect(paged.status).toBe(200);
      expect(paged.body.expansion.total).toBe(4);
      expect(codes(paged.body)).toHaveLength(3);
    } finally {
      await small.close();
    }
  });
});

import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { extractIndexRows } from '../../src/search/extract-index-rows.ts';
import { compileExpression, isHandCompiled } from '../../src/search/extract/compile-expression.ts';
import { dateRange } from '../../src/search/extract/date-range.ts';
import { decimalRange } from '../../src/search/extract/decimal-range.ts';
import type { IndexRow } from '../../src/search/index-rows.ts';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';

type Res = Record<string, unknown>;

/** The rows of one parameter, without the repeated `param`. */
function rowsOf(resource: Res, param: string, baseUrl?: string): Record<string, unknown>[] {
  return extractIndexRows(resource, { baseUrl })
    .filter((r) => r.param === param)
    .map(({ param: _p, ...rest }) => rest);
}

const patient: Res = {
  resourceType: 'Patient',
  id: 'p1',
  meta: {
    lastUpdated: '2024-05-06T07:08:09.123Z', source: 'http://sender.example/x', profile: ['http://example.org/p'],
    tag: [{ system: 'http://t', code: 'tagged' }], security: [{ system: 'http://s', code: 'R' }],
  },
  identifier: [{ system: 'http://mrn', value: 'MRN-1', type: { coding: [{ system: 'http://v2', code: 'MR' }], text: 'Medical Record' } }],
  name: [{ family: 'Müller', given: ['Zoë', 'Ann'], prefix: ['Dr'], text: 'Dr Zoë Müller' }],
  gender: 'female',
  birthDate: '1970-03',
  deceasedDateTime: '2020-01-02T03:04:05+02:00',
  telecom: [{ system: 'phone', value: '555-1234' }, { system: 'email', value: 'z@example.org' }],
  address: [{ line: ['1 Rue Émile'], city: 'Paris', postalCode: '75001', country: 'FR' }],
  generalPractitioner: [{ reference: 'Practitioner/dr1' }, { reference: 'http://fhir.example/fhir/Organization/o1/_history/3' }],
};

describe('string parameters', () => {
  it('indexes every part of a HumanName, with a lower-cased accent-free normal form', () => {
    expect(rowsOf(patient, 'name').map((r) => r.value)).toEqual(['Müller', 'Zoë', 'Ann', 'Dr', 'Dr Zoë Müller']);
    expect(rowsOf(patient, 'family')).toEqual([{ kind: 'string', value: 'Müller', norm: 'muller' }]);
    expect(rowsOf(patient, 'given').map((r) => r.norm)).toEqual(['zoe', 'ann']);
  });

  it('indexes the parts of an Address', () => {
    expect(rowsOf(patient, 'address').map((r) => r.norm)).toEqual(['1 rue emile', 'paris', '75001', 'fr']);
    expect(rowsOf(patient, 'address-city')).toEqual([{ kind: 'string', value: 'Paris', norm: 'paris' }]);
  });

  it('takes a string from a choice through `as` (Observation value-string, Condition onset-info)', () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'Positive' };
    expect(rowsOf(obs, 'value-string')).toEqual([{ kind: 'string', value: 'Positive', norm: 'positive' }]);
    const cond = { resourceType: 'Condition', subject: { reference: 'Patient/p1' }, onsetString: 'Childhood' };
    expect(rowsOf(cond, 'onset-info').map((r) => r.value)).toEqual(['Childhood']);
  });
});

describe('token parameters', () => {
  it('indexes an Identifier with its type for :of-type and :text', () => {
    expect(rowsOf(patient, 'identifier')).toEqual([{
      kind: 'token', system: 'http://mrn', code: 'MRN-1', text: 'medical record', ofType: [{ system: 'http://v2', code: 'MR' }],
    }]);
  });

  it('gives a bound code its implicit system', () => {
    expect(rowsOf(patient, 'gender')).toEqual([{ kind: 'token', system: 'http://hl7.org/fhir/administrative-gender', code: 'female' }]);
  });

  it('selects ContactPoints by system for phone and email, indexing the value', () => {
    expect(rowsOf(patient, 'phone')).toEqual([{ kind: 'token', system: null, code: '555-1234' }]);
    expect(rowsOf(patient, 'email')).toEqual([{ kind: 'token', system: null, code: 'z@example.org' }]);
    expect(rowsOf(patient, 'telecom')).toHaveLength(2);
  });

  it('evaluates `deceased` as a boolean token', () => {
    expect(rowsOf(patient, 'deceased')).toEqual([{ kind: 'token', system: null, code: 'true' }]);
    expect(rowsOf({ resourceType: 'Patient', deceasedBoolean: false }, 'deceased')).toEqual([{ kind: 'token', system: null, code: 'false' }]);
    expect(rowsOf({ resourceType: 'Patient' }, 'deceased')).toEqual([{ kind: 'token', system: null, code: 'false' }]);
  });

  it('indexes each coding of a CodeableConcept plus its text', () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }], text: 'Pulse' } };
    expect(rowsOf(obs, 'code')).toEqual([
      { kind: 'token', system: 'http://loinc.org', code: '8867-4', text: 'heart rate' },
      { kind: 'token', system: null, code: null, text: 'pulse' },
    ]);
  });

  it('indexes booleans of a choice as true/false (Group value as boolean)', () => {
    const group = { resourceType: 'Group', type: 'person', actual: true, characteristic: [{ code: { text: 'c' }, valueBoolean: true, exclude: false }] };
    expect(rowsOf(group, 'value')).toEqual([{ kind: 'token', system: null, code: 'true' }]);
  });

  it('indexes meta tags and security labels', () => {
    expect(rowsOf(patient, '_tag')).toEqual([{ kind: 'token', system: 'http://t', code: 'tagged', text: null }]);
    expect(rowsOf(patient, '_security')).toEqual([{ kind: 'token', system: 'http://s', code: 'R', text: null }]);
  });
});

describe('date parameters', () => {
  it('covers the whole month of a month-precision birthDate', () => {
    expect(rowsOf(patient, 'birthdate')).toEqual([{ kind: 'date', low: '1970-03-01T00:00:00.000Z', high: '1970-03-31T23:59:59.999Z' }]);
  });

  it('converts a dateTime with an offset to UTC and covers the second', () => {
    expect(rowsOf(patient, 'death-date')).toEqual([{ kind: 'date', low: '2020-01-02T01:04:05.000Z', high: '2020-01-02T01:04:05.999Z' }]);
  });

  it('indexes _lastUpdated from meta', () => {
    expect(rowsOf(patient, '_lastUpdated')).toEqual([{ kind: 'date', low: '2024-05-06T07:08:09.123Z', high: '2024-05-06T07:08:09.123Z' }]);
  });

  it('takes a Period with an open end (Encounter date)', () => {
    const enc = { resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' }, period: { start: '2024-01-01' } };
    expect(rowsOf(enc, 'date')).toEqual([{ kind: 'date', low: '2024-01-01T00:00:00.000Z', high: null }]);
  });

  it('takes Observation date from whichever effective[x] is present', () => {
    const obs = (effective: Res) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...effective });
    expect(rowsOf(obs({ effectiveDateTime: '2021-06-01T08:00:00+00:00' }), 'date')).toEqual([{ kind: 'date', low: '2021-06-01T08:00:00.000Z', high: '2021-06-01T08:00:00.999Z' }]);
    expect(rowsOf(obs({ effectivePeriod: { end: '2021-06' } }), 'date')).toEqual([{ kind: 'date', low: null, high: '2021-06-30T23:59:59.999Z' }]);
    expect(rowsOf(obs({ effectiveInstant: '2021-06-01T08:00:00.250Z' }), 'date')).toEqual([{ kind: 'date', low: '2021-06-01T08:00:00.250Z', high: '2021-06-01T08:00:00.250Z' }]);
  });

  it('takes Timing events and bounds (CarePlan activity-date)', () => {
    const plan = {
      resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' },
      activity: [{ detail: { status: 'scheduled', scheduledTiming: { event: ['2024-02-03'], repeat: { boundsPeriod: { start: '2024', end: '2025' } } } } }],
    };
    expect(rowsOf(plan, 'activity-date')).toEqual([
      { kind: 'date', low: '2024-02-03T00:00:00.000Z', high: '2024-02-03T23:59:59.999Z' },
      { kind: 'date', low: '2024-01-01T00:00:00.000Z', high: '2025-12-31T23:59:59.999Z' },
    ]);
  });

  it('matches `value.as(DateTime)` to valueDateTime despite the capital (Observation code-value-date)', () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 's', code: 'c' }] }, valueDateTime: '2024' };
    const [row] = extractIndexRows(obs).filter((r) => r.param === 'code-value-date');
    expect(row).toMatchObject({ kind: 'composite', components: { code: { code: 'c' }, 'value-date': { low: '2024-01-01T00:00:00.000Z' } } });
  });
});

describe('precision ranges', () => {
  it.each([
    ['2024', '2024-01-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z'],
    ['2024-02', '2024-02-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z'],
    ['2023-12-31', '2023-12-31T00:00:00.000Z', '2023-12-31T23:59:59.999Z'],
    ['2024-03-05T10:00:00Z', '2024-03-05T10:00:00.000Z', '2024-03-05T10:00:00.999Z'],
    ['2024-03-05T10:30Z', '2024-03-05T10:30:00.000Z', '2024-03-05T10:30:59.999Z'],
    ['2024-03-05T10:00:00.5Z', '2024-03-05T10:00:00.500Z', '2024-03-05T10:00:00.599Z'],
    ['2024-03-05T10:00:00.123456-05:00', '2024-03-05T15:00:00.123Z', '2024-03-05T15:00:00.123Z'],
    ['2024-03-05T10:00:00', '2024-03-05T10:00:00.000Z', '2024-03-05T10:00:00.999Z'],
    ['0001-01-01', '0001-01-01T00:00:00.000Z', '0001-01-01T23:59:59.999Z'],
  ])('%s covers [%s, %s]', (text, low, high) => {
    expect(dateRange(text)).toEqual({ low, high });
  });

  it('rejects text that is not a date', () => {
    expect(dateRange('2024-13')).toBeNull();
    expect(dateRange('yesterday')).toBeNull();
  });

  it.each([
    ['100', '100', '99.5', '100.5'],
    ['1.50', '1.50', '1.495', '1.505'],
    ['-1.5', '-1.5', '-1.55', '-1.45'],
    ['0', '0', '-0.5', '0.5'],
    ['0.001', '0.001', '0.0005', '0.0015'],
    ['1.5e3', '1500', '1450', '1550'],
    ['1e-2', '0.01', '0.005', '0.015'],
    ['12345678901234567890.123', '12345678901234567890.123', '12345678901234567890.1225', '12345678901234567890.1235'],
  ])('decimal %s is %s in [%s, %s]', (text, value, low, high) => {
    expect(decimalRange(text)).toEqual({ value, low, high });
  });
});

describe('number and quantity parameters', () => {
  it('keeps the exact digits of a LosslessNumber (Observation value-quantity 72.50)', () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'w' }, valueQuantity: { value: new LosslessNumber('72.50'), unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } };
    expect(rowsOf(obs, 'value-quantity')).toEqual([{
      kind: 'quantity', value: '72.50', low: '72.495', high: '72.505', system: 'http://unitsofmeasure.org', code: 'kg', unit: 'kg',
    }]);
  });

  it('indexes an integer with its implicit range (RiskAssessment probability)', () => {
    const ra = { resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/p1' }, prediction: [{ probabilityDecimal: 0.25 }] };
    expect(rowsOf(ra, 'probability')).toEqual([{ kind: 'number', value: '0.25', low: '0.245', high: '0.255' }]);
  });

  it('indexes a Duration (Encounter length) and Money with its currency (ChargeItem price-override)', () => {
    const enc = { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, length: { value: 90, unit: 'min', system: 'http://unitsofmeasure.org', code: 'min' } };
    expect(rowsOf(enc, 'length')).toMatchObject([{ value: '90', code: 'min' }]);
    const ci = { resourceType: 'ChargeItem', status: 'billable', code: { text: 'x' }, subject: { reference: 'Patient/p1' }, priceOverride: { value: 40, currency: 'EUR' } };
    expect(rowsOf(ci, 'price-override')).toEqual([{ kind: 'quantity', value: '40', low: '39.5', high: '40.5', system: 'urn:iso:std:iso:4217', code: 'EUR', unit: null }]);
  });

  it('indexes a Range as one row flagged with its kind (Condition onset-age)', () => {
    const cond = { resourceType: 'Condition', subject: { reference: 'Patient/p1' }, onsetRange: { low: { value: 10, unit: 'a' }, high: { value: 20, unit: 'a' } } };
    expect(rowsOf(cond, 'onset-age')).toMatchObject([{ value: '10', low: '10', high: '20', range: 'closed', unit: 'a' }]);
    const open = { ...cond, onsetRange: { low: { value: 65, unit: 'a' } } };
    expect(rowsOf(open, 'onset-age')).toMatchObject([{ value: '65', range: 'at-least' }]);
  });
});

describe('reference parameters', () => {
  it('indexes relative and absolute references (general-practitioner), dropping _history', () => {
    expect(rowsOf(patient, 'general-practitioner', 'http://fhir.example/fhir')).toEqual([
      { kind: 'reference', targetType: 'Practitioner', targetId: 'dr1', url: null },
      { kind: 'reference', targetType: 'Organization', targetId: 'o1', url: null },
    ]);
    expect(rowsOf(patient, 'general-practitioner')[1]).toEqual({
      kind: 'reference', targetType: 'Organization', targetId: null, url: 'http://fhir.example/fhir/Organization/o1/_history/3',
    });
  });

  it('keeps `patient` to subjects whose target type is Patient (where(resolve() is Patient))', () => {
    const obs = (subject: unknown) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject });
    expect(rowsOf(obs({ reference: 'Patient/p1' }), 'patient')).toEqual([{ kind: 'reference', targetType: 'Patient', targetId: 'p1', url: null }]);
    expect(rowsOf(obs({ reference: 'Group/g1' }), 'patient')).toEqual([]);
    expect(rowsOf(obs({ reference: 'Group/g1' }), 'subject')).toHaveLength(1);
    expect(rowsOf(obs({ reference: 'urn:uuid:7d1f3c1e-0000-4000-8000-000000000000' }), 'patient')).toEqual([]);
    expect(rowsOf(obs({ reference: 'https://other.example/fhir/Patient/9' }), 'patient')).toEqual([
      { kind: 'reference', targetType: 'Patient', targetId: null, url: 'https://other.example/fhir/Patient/9' },
    ]);
    expect(rowsOf(obs({ type: 'Patient', identifier: { system: 'http://mrn', value: '7' } }), 'patient')).toEqual([
      { kind: 'reference', targetType: 'Patient', targetId: null, url: null, identifierSystem: 'http://mrn', identifierValue: '7' },
    ]);
  });

  it('skips contained references and keeps URNs as url (Encounter practitioner)', () => {
    const enc = {
      resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' },
      participant: [{ individual: { reference: '#p' } }, { individual: { reference: 'urn:uuid:1c4b2f0e-0000-4000-8000-000000000000' } }, { individual: { reference: 'Practitioner/x' } }, { individual: { reference: 'RelatedPerson/r' } }],
    };
    expect(rowsOf(enc, 'participant')).toHaveLength(3);
    expect(rowsOf(enc, 'practitioner')).toEqual([{ kind: 'reference', targetType: 'Practitioner', targetId: 'x', url: null }]);
  });

  it('indexes a canonical as url (QuestionnaireResponse questionnaire)', () => {
    const qr = { resourceType: 'QuestionnaireResponse', status: 'completed', questionnaire: 'http://q.example/Questionnaire/q|2' };
    expect(rowsOf(qr, 'questionnaire')).toEqual([{ kind: 'reference', targetType: null, targetId: null, url: 'http://q.example/Questionnaire/q|2' }]);
  });

  it('indexes a document Bundle’s first entry as `composition`', () => {
    const bundle = { resourceType: 'Bundle', type: 'document', entry: [{ fullUrl: 'urn:uuid:x', resource: { resourceType: 'Composition', id: 'c1' } }] };
    expect(rowsOf(bundle, 'composition')).toEqual([{ kind: 'reference', targetType: 'Composition', targetId: 'c1', url: null }]);
    expect(rowsOf(bundle, 'message')).toEqual([]);
  });
});

describe('uri parameters', () => {
  it('indexes _profile, _source and canonical urls', () => {
    expect(rowsOf(patient, '_profile')).toEqual([{ kind: 'uri', value: 'http://example.org/p' }]);
    expect(rowsOf(patient, '_source')).toEqual([{ kind: 'uri', value: 'http://sender.example/x' }]);
    expect(rowsOf({ resourceType: 'ValueSet', status: 'active', url: 'http://vs.example/a' }, 'url')).toEqual([{ kind: 'uri', value: 'http://vs.example/a' }]);
  });
});

describe('composite parameters', () => {
  const bp = {
    resourceType: 'Observation', status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, code: 'mm[Hg]' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 80, code: 'mm[Hg]' } },
    ],
  };

  it('pairs each component code with its own value (component-code-value-quantity)', () => {
    const rows = extractIndexRows(bp).filter((r) => r.param === 'component-code-value-quantity');
    const pairs = rows.map((r) => r.kind === 'composite' && [(r.components['component-code'] as { code: string }).code, (r.components['component-value-quantity'] as { value: string }).value]);
    expect(pairs).toEqual([['8480-6', '120'], ['8462-4', '80']]);
  });

  it('needs every component from the same element (code-value-quantity absent without valueQuantity)', () => {
    expect(extractIndexRows(bp).filter((r) => r.param === 'code-value-quantity')).toEqual([]);
    const weight = { ...bp, component: undefined, valueQuantity: { value: 70, code: 'kg' } };
    expect(extractIndexRows(weight).filter((r) => r.param === 'code-value-quantity')).toHaveLength(1);
  });

  it('reads `%resource` in components (MolecularSequence chromosome-variant-coordinate)', () => {
    const seq = { resourceType: 'MolecularSequence', coordinateSystem: 0, referenceSeq: { chromosome: { coding: [{ code: '1' }] } }, variant: [{ start: 10, end: 20 }] };
    const [row] = extractIndexRows(seq).filter((r) => r.param === 'chromosome-variant-coordinate');
    expect(row).toMatchObject({ components: { chromosome: { code: '1' }, 'variant-start': { value: '10' }, 'variant-end': { value: '20' } } });
  });

  it('corrects the R4 erratum of DocumentReference relationship (components swapped)', () => {
    const doc = { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: {} }], relatesTo: [{ code: 'replaces', target: { reference: 'DocumentReference/old' } }] };
    const [row] = extractIndexRows(doc).filter((r) => r.param === 'relationship');
    expect(row).toMatchObject({ components: { relatesto: { targetId: 'old' }, relation: { code: 'replaces' } } });
  });

  it('indexes Location near as latitude and longitude numbers', () => {
    const loc = { resourceType: 'Location', position: { latitude: new LosslessNumber('52.3700'), longitude: 4.89 } };
    const [row] = extractIndexRows(loc).filter((r) => r.param === 'near');
    expect(row).toMatchObject({ kind: 'composite', components: { latitude: { value: '52.3700' }, longitude: { value: '4.89' } } });
  });
});

describe('extractIndexRows', () => {
  it('leaves _id to the id column and returns nothing for an unknown type', () => {
    expect(extractIndexRows(patient).some((r) => r.param === '_id')).toBe(false);
    expect(extractIndexRows({ resourceType: 'NotAType', id: 'x' })).toEqual([]);
  });

  it('hand-compiles every R4 search expression (no fhirpath fallback needed)', () => {
    const model = loadFhirModel();
    const fallback = model.data.searchParams.flatMap((sp) => [sp.expression ?? 'Resource', ...(sp.component ?? []).map((c) => c.expression)]).filter((e) => !isHandCompiled(e));
    expect(fallback).toEqual([]);
  });

  it('falls back to the fhirpath engine for expressions outside the subset', () => {
    const root = { value: patient, type: 'Patient' };
    expect(isHandCompiled('Patient.name.given.count()')).toBe(false);
    expect(compileExpression('Patient.name.given.count()')([root], { resource: root }).map((n) => n.value)).toEqual([2]);
  });

  it('returns typed rows only', () => {
    const kinds = new Set(extractIndexRows(patient).map((r: IndexRow) => r.kind));
    expect([...kinds].sort()).toEqual(['date', 'reference', 'string', 'token', 'uri']);
  });
});

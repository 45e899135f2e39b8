import { LosslessNumber, parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { validateResource } from '../../src/fhir/validate-resource.ts';
import { cpuMsOf } from '../helpers/cpu-time.ts';

const patient = (extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', id: 'p1', ...extra });
const exprs = (resource: unknown, type?: string) => validateResource(resource, type).map((i) => i.expression?.[0]);
const issue = (resource: unknown, path: string) => validateResource(resource).find((i) => i.expression?.[0] === path);

describe('validateResource: resource type', () => {
  it('accepts a minimal valid Patient', () => {
    expect(validateResource(patient({ name: [{ family: 'Doe', given: ['Jane', 'Q'] }], birthDate: '1970-01-01' }))).toEqual([]);
  });

  it('refuses a missing or unknown resourceType', () => {
    expect(validateResource({ id: 'x' })[0]).toMatchObject({ severity: 'error', code: 'required' });
    expect(validateResource({ resourceType: 'Patiant' })[0].code).toBe('invalid');
    expect(validateResource({ resourceType: 'DomainResource' })[0].code).toBe('invalid');
    expect(validateResource([patient()])[0].code).toBe('structure');
  });

  it('refuses a resourceType different from the expected one', () => {
    expect(validateResource(patient(), 'Observation')[0]).toMatchObject({ code: 'invalid' });
    expect(validateResource(patient(), 'Patient')).toEqual([]);
  });
});

describe('validateResource: JSON shape and cardinality', () => {
  it('requires arrays for repeating elements and refuses them for single ones', () => {
    expect(issue(patient({ name: { family: 'Doe' } }), 'Patient.name')?.code).toBe('structure');
    expect(issue(patient({ birthDate: ['1970-01-01'] }), 'Patient.birthDate')?.code).toBe('structure');
  });

  it('refuses wrong JSON types', () => {
    expect(issue(patient({ active: 'true' }), 'Patient.active')?.code).toBe('structure');
    expect(issue(patient({ name: ['Doe'] }), 'Patient.name[0]')?.code).toBe('structure');
    expect(issue(patient({ name: [{ given: [1] }] }), 'Patient.name[0].given[0]')?.code).toBe('structure');
  });

  it('refuses null values, empty arrays and empty objects', () => {
    expect(issue(patient({ gender: null }), 'Patient.gender')?.code).toBe('structure');
    expect(issue(patient({ name: [] }), 'Patient.name')?.code).toBe('structure');
    expect(issue(patient({ name: [{}] }), 'Patient.name[0]')?.code).toBe('invariant');
  });

  it('reports missing required elements', () => {
    const obs = { resourceType: 'Observation', code: { text: 'x' } };
    expect(issue(obs, 'Observation.status')).toMatchObject({ code: 'required' });
    expect(issue({ resourceType: 'Bundle' }, 'Bundle.type')).toMatchObject({ code: 'required' });
  });

  it('reports elements over their maximum cardinality', () => {
    // R4 has no element with a finite max above 1, so max 1 given twice is the case to cover.
    expect(issue(patient({ gender: ['male', 'female'] }), 'Patient.gender')).toMatchObject({ code: 'structure' });
    expect(issue({ resourceType: 'Bundle', type: 'collection', total: [1, 2] }, 'Bundle.total')?.code).toBe('structure');
  });

  it('reports unknown and misspelled elements with their path', () => {
    expect(issue(patient({ birthdate: '1970-01-01' }), 'Patient.birthdate')).toMatchObject({ code: 'structure' });
    expect(issue(patient({ name: [{ famly: 'Doe' }] }), 'Patient.name[0].famly')).toMatchObject({ code: 'structure' });
  });

  it('allows primitive extensions in _element siblings, aligned for arrays', () => {
    const ext = { extension: [{ url: 'http://example.org/x', valueString: 'y' }] };
    expect(validateResource(patient({ birthDate: '1970', _birthDate: ext }))).toEqual([]);
    expect(validateResource(patient({ _birthDate: ext }))).toEqual([]);
    expect(validateResource(patient({ name: [{ given: ['A', null], _given: [null, ext] }] }))).toEqual([]);
    expect(issue(patient({ name: [{ given: ['A', null] }] }), 'Patient.name[0].given[1]')?.code).toBe('structure');
    expect(issue(patient({ _name: ext }), 'Patient._name')?.code).toBe('structure');
    expect(issue(patient({ _birthDate: 'x' }), 'Patient.birthDate')?.code).toBe('structure');
  });
});

describe('validateResource: choice types', () => {
  const obs = (extra: Record<string, unknown>) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...extra });

  it('accepts one variant and reports its own path', () => {
    expect(validateResource(obs({ valueQuantity: { value: 1, unit: 'mg' } }))).toEqual([]);
    expect(issue(obs({ valueDateTime: '2020-02-30' }), 'Observation.valueDateTime')?.code).toBe('value');
  });

  it('refuses two variants of the same choice', () => {
    expect(issue(obs({ valueString: 'a', valueQuantity: { value: 1 } }), 'Observation.value[x]')?.code).toBe('structure');
  });

  it('refuses a type the choice does not allow', () => {
    expect(issue(obs({ valueMoney: { value: 1 } }), 'Observation.valueMoney')?.code).toBe('structure');
  });
});

describe('validateResource: primitives', () => {
  it('reports invalid dates and ids with paths', () => {
    expect(issue(patient({ birthDate: '2023-02-30' }), 'Patient.birthDate')?.code).toBe('value');
    expect(issue({ resourceType: 'Patient', id: 'bad id' }, 'Patient.id')?.code).toBe('value');
  });

  it('treats LosslessNumber decimals as numbers', () => {
    const obs = parse('{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50}}');
    expect(validateResource(obs)).toEqual([]);
    const bad = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueInteger: new LosslessNumber('1.5') };
    expect(issue(bad, 'Observation.valueInteger')?.code).toBe('value');
  });
});

describe('validateResource: required bindings', () => {
  it('refuses a code outside the value set', () => {
    expect(issue(patient({ gender: 'M' }), 'Patient.gender')).toMatchObject({ code: 'code-invalid' });
    expect(validateResource(patient({ gender: 'female' }))).toEqual([]);
  });

  it('checks CodeableConcept codings of a required binding', () => {
    const cond = (coding: unknown[]) => ({ resourceType: 'Condition', subject: { reference: 'Patient/1' }, clinicalStatus: { coding } });
    const system = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
    expect(validateResource(cond([{ system, code: 'active' }]))).toEqual([]);
    expect(validateResource(cond([{ system: 'http://other', code: 'x' }, { system, code: 'active' }]))).toEqual([]);
    expect(issue(cond([{ system, code: 'nope' }]), 'Condition.clinicalStatus.coding')?.code).toBe('code-invalid');
    expect(validateResource({ resourceType: 'Condition', subject: { reference: 'Patient/1' }, clinicalStatus: { text: 'x' } })).toEqual([]);
  });

  it('checks format-only value sets by shape', () => {
    const att = (contentType: string) => patient({ photo: [{ contentType, data: 'SGVsbG8=' }] });
    expect(validateResource(att('image/png'))).toEqual([]);
    expect(issue(att('png'), 'Patient.photo[0].contentType')?.code).toBe('code-invalid');
    const money = (currency: string) => ({ resourceType: 'Account', status: 'active', extension: [{ url: 'http://x', valueMoney: { value: 1, currency } }] });
    expect(validateResource(money('EUR'))).toEqual([]);
    expect(issue(money('euro'), 'Account.extension[0].valueMoney.currency')?.code).toBe('code-invalid');
  });
});

describe('validateResource: references', () => {
  const obs = (reference: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference } });

  it('accepts allowed targets and refuses others', () => {
    expect(validateResource(obs('Patient/1'))).toEqual([]);
    expect(issue(obs('Medication/1'), 'Observation.subject.reference')?.code).toBe('invalid');
    expect(issue(obs('Patient/'), 'Observation.subject.reference')?.code).toBe('value');
  });
});

describe('validateResource: nested resources', () => {
  it('validates contained resources by their own type', () => {
    const p = patient({ contained: [{ resourceType: 'Organization', id: 'o', nme: 'x' }] });
    expect(exprs(p)).toEqual(['Patient.contained[0].nme']);
  });

  it('validates Bundle entries and Parameters resources', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient({ gender: 'x' }) }] };
    expect(exprs(bundle)).toEqual(['Bundle.entry[0].resource.gender']);
    const params = { resourceType: 'Parameters', parameter: [{ name: 'r', resource: { resourceType: 'Nope' } }] };
    expect(exprs(params)).toEqual(['Parameters.parameter[0].resource.resourceType']);
  });

  it('validates recursive content references (Questionnaire.item.item)', () => {
    const q = { resourceType: 'Questionnaire', status: 'draft', item: [{ linkId: '1', type: 'group', item: [{ linkId: '1.1', type: 'bogus' }] }] };
    expect(exprs(q)).toEqual(['Questionnaire.item[0].item[0].type']);
  });
});

describe('validateResource: extensions', () => {
  it('requires url and exactly one of value[x] or nested extensions', () => {
    expect(issue(patient({ extension: [{ valueString: 'x' }] }), 'Patient.extension[0].url')?.code).toBe('required');
    expect(issue(patient({ extension: [{ url: 'http://x' }] }), 'Patient.extension[0]')?.code).toBe('invariant');
    const both = { url: 'http://x', valueString: 'a', extension: [{ url: 'y', valueCode: 'b' }] };
    expect(issue(patient({ extension: [both] }), 'Patient.extension[0]')?.code).toBe('invariant');
    const two = { url: 'http://x', valueString: 'a', valueCode: 'b' };
    expect(issue(patient({ modifierExtension: [two] }), 'Patient.modifierExtension[0].value[x]')?.code).toBe('structure');
  });
});

describe('validateResource: narrative', () => {
  it('refuses script in text.div', () => {
    const text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script></div>' };
    expect(issue(patient({ text }), 'Patient.text.div')?.code).toBe('invariant');
  });
});

describe('validateResource: hostile input', () => {
  it('stops at 100 levels of nesting with one issue and no stack overflow', () => {
    let ext: Record<string, unknown> = { url: 'http://x', valueString: 'leaf' };
    for (let i = 0; i < 100_000; i++) ext = { url: 'http://x', extension: [ext] };
    const issues = validateResource(patient({ extension: [ext] }));
    expect(issues.filter((i) => i.code === 'too-costly')).toHaveLength(1);
  });

  it('handles a huge flat array in linear time', () => {
    const given = Array.from({ length: 200_000 }, (_, i) => `n${i}`);
    const cpuMs = cpuMsOf(() => expect(validateResource(patient({ name: [{ given }] }))).toEqual([]));
    expect(cpuMs).toBeLessThan(2000);
  });
});

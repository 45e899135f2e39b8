import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { indexFhirModel, loadFhirModel, MODEL_PATH } from '../../src/fhir/fhir-model.ts';

const model = loadFhirModel();

describe('FHIR model', () => {
  it('lists the 146 concrete R4 resource types, sorted', () => {
    expect(model.resourceTypes).toHaveLength(146);
    expect([...model.resourceTypes].sort()).toEqual(model.resourceTypes);
    expect(model.isResourceType('Patient')).toBe(true);
    expect(model.isResourceType('DomainResource')).toBe(false);
    expect(model.getType('DomainResource')).toMatchObject({ kind: 'resource', abstract: true, base: 'Resource' });
    expect(model.getType('Resource')?.abstract).toBe(true);
  });

  it('has every primitive and complex datatype with its base', () => {
    expect(model.getType('date')).toMatchObject({ kind: 'primitive-type', base: 'Element' });
    expect(model.getType('HumanName')).toMatchObject({ kind: 'complex-type', base: 'Element' });
    expect(model.getType('Age')).toMatchObject({ kind: 'complex-type', base: 'Quantity' });
    expect(model.getElement('date.value')?.regex).toContain('[0-9]');
  });

  it('has snapshot elements with cardinality, types, targets and choices', () => {
    expect(model.getElement('Patient.id')).toMatchObject({ min: 0, max: '1', types: [{ code: 'id' }] });
    expect(model.getElement('Observation.status')).toMatchObject({ min: 1, max: '1' });
    expect(model.getElement('Observation.subject')?.types?.[0].targets).toEqual(['Device', 'Group', 'Location', 'Patient']);
    expect(model.getElement('Observation.value[x]')?.types?.map((t) => t.code)).toContain('Quantity');
    expect(model.getChildren('Patient.contact').map((e) => e.path)).toContain('Patient.contact.relationship');
  });

  it('keeps content references', () => {
    expect(model.getElement('Questionnaire.item.item')?.contentReference).toBe('#Questionnaire.item');
  });

  it('has bindings and expansions of required value sets', () => {
    expect(model.getElement('Observation.status')?.binding).toEqual({
      strength: 'required', valueSet: 'http://hl7.org/fhir/ValueSet/observation-status',
    });
    const codes = model.getValueSet('http://hl7.org/fhir/ValueSet/observation-status')?.codes;
    expect(codes?.['http://hl7.org/fhir/observation-status']).toContain('final');
    // a hierarchical code system: nested concepts are expanded too
    const types = model.getValueSet('http://hl7.org/fhir/ValueSet/resource-types')?.codes;
    expect(Object.values(types ?? {}).flat()).toContain('Patient');
  });

  it('marks the unexpandable value sets as format-only', () => {
    expect(model.getValueSet('http://hl7.org/fhir/ValueSet/mimetypes')).toEqual({ format: 'mime-type' });
    expect(model.getValueSet('http://hl7.org/fhir/ValueSet/currencies')).toEqual({ format: 'currency' });
    expect(model.getValueSet('http://hl7.org/fhir/ValueSet/ucum-units')).toEqual({ format: 'ucum' });
    expect(model.getValueSet('http://loinc.org/vs/LL379-9')).toEqual({ format: 'loinc-answer' });
    expect(model.getValueSet('http://terminology.hl7.org/ValueSet/v3-ConfidentialityClassification')?.codes).toBeDefined();
  });

  it('has search parameters per resource type, with inherited ones', () => {
    expect(model.getSearchParam('Patient', 'birthdate')).toMatchObject({ type: 'date', expression: expect.stringContaining('Patient.birthDate') });
    expect(model.getSearchParam('Patient', '_id')?.type).toBe('token');
    expect(model.getSearchParam('Patient', '_text')).toBeDefined();
    expect(model.getSearchParam('Bundle', '_text')).toBeUndefined();
    const composite = model.getSearchParam('Observation', 'code-value-quantity');
    expect(composite?.component?.map((c) => c.definition)).toContain('http://hl7.org/fhir/SearchParameter/clinical-code');
    expect(model.getSearchParam('Observation', 'subject')?.target).toContain('Patient');
  });

  it('is loaded once per process, from the committed model file (its load time is a bench figure: npm run bench:micro)', () => {
    expect(loadFhirModel()).toBe(model);
    const reindexed = indexFhirModel(JSON.parse(readFileSync(MODEL_PATH, 'utf8')));
    expect(reindexed.resourceTypes).toEqual(model.resourceTypes);
    expect(reindexed.getSearchParam('Observation', 'code-value-quantity')).toEqual(model.getSearchParam('Observation', 'code-value-quantity'));
  });
});

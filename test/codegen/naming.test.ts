import { describe, expect, it } from 'vitest';
import {
  backboneTypeName, choiceFieldName, graphqlArgName, inputTypeName, reverseReferenceParams, searchArgCodes,
} from '../../src/codegen/index.ts';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';

const model = loadFhirModel();

describe('FHIR ↔ GraphQL names', () => {
  it('names backbone elements by their path in PascalCase', () => {
    expect(backboneTypeName('Patient.contact')).toBe('PatientContact');
    expect(backboneTypeName('Task.input')).toBe('TaskInput');
    expect(backboneTypeName('Bundle.entry.request')).toBe('BundleEntryRequest');
  });

  it('suffixes input types with _Input', () => {
    expect(inputTypeName('Patient')).toBe('Patient_Input');
    expect(inputTypeName('TaskInput')).toBe('TaskInput_Input');
  });

  it('names choice fields as FHIR JSON does', () => {
    expect(choiceFieldName('value[x]', 'Quantity')).toBe('valueQuantity');
    expect(choiceFieldName('effective[x]', 'dateTime')).toBe('effectiveDateTime');
  });

  it('maps search parameter codes to argument names and back', () => {
    expect(graphqlArgName('general-practitioner')).toBe('general_practitioner');
    const codes = searchArgCodes(model, 'Patient');
    expect(codes.get('general_practitioner')).toBe('general-practitioner');
    expect(codes.get('name')).toBe('name');
    expect(codes.get('_id')).toBe('_id');
    for (const t of model.resourceTypes) {
      for (const [name, code] of searchArgCodes(model, t)) expect(graphqlArgName(code)).toBe(name);
    }
  });

  it('tells the resolver which parameters of a source can reference a target', () => {
    expect(reverseReferenceParams(model, 'Patient', 'Observation')).toEqual(expect.arrayContaining(['subject', 'patient', 'performer']));
    expect(reverseReferenceParams(model, 'Patient', 'Observation')).not.toContain('device');
    expect(reverseReferenceParams(model, 'Observation', 'Patient')).toEqual([]);
  });
});

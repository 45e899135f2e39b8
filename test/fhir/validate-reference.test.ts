import { describe, expect, it } from 'vitest';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';
import { checkReference } from '../../src/fhir/validate-reference.ts';

const { isResourceType } = loadFhirModel();
const check = (ref: string, targets?: string[]) => checkReference(ref, targets, isResourceType);

describe('checkReference', () => {
  it('accepts relative, versioned, absolute, fragment and urn references', () => {
    for (const ref of ['Patient/123', 'Patient/a.b-c/_history/2', 'http://example.org/fhir/Patient/1', '#p1', '#',
      'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a', 'urn:oid:1.2.3', 'Patient?identifier=x|1']) {
      expect(check(ref), ref).toBeUndefined();
    }
  });

  it('refuses unknown types, bad ids and garbage', () => {
    expect(check('Patiant/1')?.code).toBe('value');
    expect(check('Patient/bad_id')?.code).toBe('value');
    expect(check('Patient/1/_history/')?.code).toBe('value');
    expect(check('just text')?.code).toBe('value');
    expect(check('urn:uuid:nope')?.code).toBe('value');
  });

  it('refuses a relative reference to a type the targetProfile does not allow', () => {
    expect(check('Practitioner/1', ['Organization'])?.code).toBe('invalid');
    expect(check('Organization/1', ['Organization'])).toBeUndefined();
    expect(check('Practitioner/1', ['Resource'])).toBeUndefined();
  });
});

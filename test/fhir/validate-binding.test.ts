import { describe, expect, it } from 'vitest';
import { compileValueSet, isCodeInValueSet, matchCoding } from '../../src/fhir/validate-binding.ts';

const gender = compileValueSet('g', { codes: { 'http://hl7.org/fhir/administrative-gender': ['female', 'male'] } });

describe('required binding checks', () => {
  it('checks a bare code against every system of the set', () => {
    expect(isCodeInValueSet(gender, 'male')).toBe(true);
    expect(isCodeInValueSet(gender, 'M')).toBe(false);
  });

  it('checks a Coding only when its system is one of the set', () => {
    expect(matchCoding(gender, 'http://hl7.org/fhir/administrative-gender', 'male')).toBe('in');
    expect(matchCoding(gender, 'http://hl7.org/fhir/administrative-gender', 'M')).toBe('out');
    expect(matchCoding(gender, 'http://other', 'M')).toBe('other');
    expect(matchCoding(gender, undefined, 'M')).toBe('out');
  });

  it('checks MIME types, currencies, UCUM and LOINC answers by shape', () => {
    const mime = compileValueSet('m', { format: 'mime-type' });
    expect(isCodeInValueSet(mime, 'application/fhir+json; charset=utf-8')).toBe(true);
    expect(isCodeInValueSet(mime, 'json')).toBe(false);
    const currency = compileValueSet('c', { format: 'currency' });
    expect(isCodeInValueSet(currency, 'USD')).toBe(true);
    expect(isCodeInValueSet(currency, 'usd')).toBe(false);
    const ucum = compileValueSet('u', { format: 'ucum' });
    for (const unit of ['mg', 'mm[Hg]', '10*3/uL', '{score}', '%', 'kg/(m2.s)']) expect(isCodeInValueSet(ucum, unit), unit).toBe(true);
    for (const unit of ['m g', 'mm[Hg', 'kg)']) expect(isCodeInValueSet(ucum, unit), unit).toBe(false);
    expect(matchCoding(ucum, 'http://unitsofmeasure.org', 'mm[Hg')).toBe('out');
    const loinc = compileValueSet('l', { format: 'loinc-answer' });
    expect(matchCoding(loinc, 'http://loinc.org', 'LA6692-3')).toBe('in');
    expect(matchCoding(loinc, 'http://loinc.org', '1234-5')).toBe('out');
  });
});

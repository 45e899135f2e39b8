import { describe, expect, it } from 'vitest';
import { createModelValueSetExpander } from '../../src/terminology/model-value-sets.ts';

const cs = {
  resourceType: 'CodeSystem', url: 'http://x/cs', content: 'complete',
  concept: [{ code: 'a', concept: [{ code: 'a1', concept: [{ code: 'a1x' }] }, { code: 'a2' }] }, { code: 'b' }],
};
const vs = (url: string, compose: unknown) => ({ resourceType: 'ValueSet', url, compose });
const expander = createModelValueSetExpander([
  cs,
  vs('http://x/all', { include: [{ system: 'http://x/cs' }] }),
  vs('http://x/some', { include: [{ system: 'http://x/cs', concept: [{ code: 'b' }, { code: 'a2' }] }] }),
  vs('http://x/minus', { include: [{ system: 'http://x/cs' }], exclude: [{ system: 'http://x/cs', concept: [{ code: 'a1' }] }] }),
  vs('http://x/nested', { include: [{ valueSet: ['http://x/some'] }] }),
  vs('http://x/isa', { include: [{ system: 'http://x/cs', filter: [{ property: 'concept', op: 'is-a', value: 'a1' }] }] }),
  vs('http://x/desc', { include: [{ system: 'http://x/cs', filter: [{ property: 'concept', op: 'descendent-of', value: 'a' }] }] }),
  vs('http://x/missing', { include: [{ system: 'http://nowhere' }] }),
  vs('http://x/pre', { include: [{ system: 'http://nowhere' }] }),
], [{ resourceType: 'ValueSet', url: 'http://x/pre', expansion: { contains: [{ system: 'http://nowhere', code: 'z' }] } }]);

const codes = (url: string) => expander(url).codes?.['http://x/cs'];

describe('createModelValueSetExpander', () => {
  it('expands a whole hierarchical code system', () => {
    expect(codes('http://x/all')).toEqual(['a', 'a1', 'a1x', 'a2', 'b']);
  });
  it('expands explicit concepts, sorted', () => {
    expect(codes('http://x/some')).toEqual(['a2', 'b']);
  });
  it('removes excluded codes', () => {
    expect(codes('http://x/minus')).toEqual(['a', 'a1x', 'a2', 'b']);
  });
  it('follows include.valueSet', () => {
    expect(codes('http://x/nested')).toEqual(['a2', 'b']);
  });
  it('applies is-a and descendent-of filters', () => {
    expect(codes('http://x/isa')).toEqual(['a1', 'a1x']);
    expect(codes('http://x/desc')).toEqual(['a1', 'a1x', 'a2']);
  });
  it('falls back to the published expansion, then to format-only', () => {
    expect(expander('http://x/pre')).toEqual({ codes: { 'http://nowhere': ['z'] } });
    expect(expander('http://x/missing')).toEqual({ format: 'any' });
    expect(expander('http://hl7.org/fhir/ValueSet/currencies')).toEqual({ format: 'currency' });
  });
});

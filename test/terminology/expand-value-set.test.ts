import { describe, expect, it } from 'vitest';
import { expandValueSet } from '../../src/terminology/expand-value-set.ts';
import { createPackageSource } from '../../src/terminology/package-source.ts';
import { lookupConcept } from '../../src/terminology/concept-lookup.ts';
import { checkCodings } from '../../src/terminology/check-codings.ts';
import { textMatcher } from '../../src/terminology/text-filter.ts';
import { TerminologyError } from '../../src/terminology/terminology-errors.ts';
import type { ValueSetResource } from '../../src/terminology/terminology-types.ts';

const S = 'http://x/cs';
const cs = {
  resourceType: 'CodeSystem', url: S, version: '2', content: 'complete',
  concept: [
    { code: 'a', display: 'Alpha', concept: [
      { code: 'a1', display: 'Alpha one', concept: [{ code: 'a1x', display: 'Alpha one x', property: [{ code: 'status', valueCode: 'retired' }] }] },
      { code: 'a2', display: 'Alpha two', property: [{ code: 'kind', valueCode: 'k' }] }] },
    { code: 'b', display: 'Beta', property: [{ code: 'notSelectable', valueBoolean: true }] },
    // `parent` stated as a property rather than by nesting.
    { code: 'c', display: 'Gamma', property: [{ code: 'parent', valueCode: 'b' }] },
  ],
};
const source = createPackageSource([cs, { resourceType: 'ValueSet', url: 'http://x/some', compose: { include: [{ system: S, concept: [{ code: 'b' }, { code: 'a2', display: 'Two' }] }] } }]);
const vs = (compose: unknown): ValueSetResource => ({ resourceType: 'ValueSet', url: 'http://x/vs', compose } as ValueSetResource);
const codes = (compose: unknown, options = {}) => expandValueSet(vs(compose), source, { maxEntries: 100, ...options }).entries.map((e) => e.code);
const failure = (compose: unknown, options = {}) => {
  try {
    codes(compose, options);
  } catch (err) {
    expect(err).toBeInstanceOf(TerminologyError);
    return (err as TerminologyError).reason;
  }
  throw new Error('expected a failure');
};

describe('expandValueSet', () => {
  it('expands a whole code system in document order, with versions, displays and flags', () => {
    const { entries, systems } = expandValueSet(vs({ include: [{ system: S }] }), source, { maxEntries: 100 });
    expect(entries.map((e) => e.code)).toEqual(['a', 'a1', 'a1x', 'a2', 'b', 'c']);
    expect(entries[0]).toEqual({ system: S, version: '2', code: 'a', display: 'Alpha' });
    expect(entries.find((e) => e.code === 'b')?.abstract).toBe(true);
    expect(entries.find((e) => e.code === 'a1x')?.inactive).toBe(true);
    expect(systems.get(S)).toBe('2');
  });

  it('applies hierarchy filters over nesting and parent properties', () => {
    const f = (op: string, value: string, property = 'concept') => codes({ include: [{ system: S, filter: [{ property, op, value }] }] });
    expect(f('is-a', 'a1')).toEqual(['a1', 'a1x']);
    expect(f('descendent-of', 'a')).toEqual(['a1', 'a1x', 'a2']);
    expect(f('is-not-a', 'a')).toEqual(['b', 'c']);
    expect(f('is-a', 'b')).toEqual(['b', 'c']);
    expect(f('generalizes', 'a1x')).toEqual(['a', 'a1', 'a1x']);
    expect(f('in', 'a2,c')).toEqual(['a2', 'c']);
    expect(f('=', 'k', 'kind')).toEqual(['a2']);
    expect(f('=', 'b', 'parent')).toEqual(['c']);
  });

  it('intersects filters, takes listed concepts with their displays, imports value sets and excludes', () => {
    expect(codes({ include: [{ system: S, filter: [{ property: 'concept', op: 'is-a', value: 'a' }, { property: 'concept', op: 'is-not-a', value: 'a1' }] }] })).toEqual(['a', 'a2']);
    const listed = expandValueSet(vs({ include: [{ valueSet: ['http://x/some'] }] }), source, { maxEntries: 100 }).entries;
    expect(listed.map((e) => [e.code, e.display])).toEqual([['b', 'Beta'], ['a2', 'Two']]);
    expect(codes({ include: [{ system: S }], exclude: [{ valueSet: ['http://x/some'] }] })).toEqual(['a', 'a1', 'a1x', 'c']);
    expect(codes({ include: [{ system: S, valueSet: ['http://x/some'] }] })).toEqual(['a2', 'b']);
  });

  it('drops inactive codes with activeOnly or compose.inactive = false', () => {
    expect(codes({ include: [{ system: S }] }, { activeOnly: true })).not.toContain('a1x');
    expect(codes({ inactive: false, include: [{ system: S }] })).not.toContain('a1x');
  });

  it('fails with a reason: unknown systems and value sets, unsupported filters, too many codes', () => {
    expect(failure({ include: [{ system: 'http://snomed.info/sct' }] })).toBe('unknown');
    expect(failure({ include: [{ valueSet: ['http://x/none'] }] })).toBe('unknown');
    expect(failure({ include: [{ system: S, filter: [{ property: 'code', op: 'regex', value: 'a.*' }] }] })).toBe('unsupported');
    expect(failure({ include: [{ system: S, version: '1' }] })).toBe('unknown');
    expect(failure({ include: [{ system: S }] }, { maxEntries: 3 })).toBe('too-costly');
    // An unknown system with listed codes still expands (the codes are given).
    expect(codes({ include: [{ system: 'http://snomed.info/sct', concept: [{ code: '123' }] }] })).toEqual(['123']);
  });

  it('falls back to the expansion a value set carries when its compose cannot be expanded', () => {
    const carried = { ...vs({ include: [{ system: 'http://nowhere' }] }), expansion: { contains: [{ system: 'http://nowhere', code: 'z', contains: [{ system: 'http://nowhere', code: 'zz' }] }] } };
    expect(expandValueSet(carried, source, { maxEntries: 100 }).entries.map((e) => e.code)).toEqual(['z', 'zz']);
  });
});

describe('the text filter', () => {
  it('matches word prefixes of the display and the start of the code, case-insensitively', () => {
    const match = textMatcher('ALP tw');
    expect(match({ system: S, code: 'a2', display: 'Alpha two' })).toBe(true);
    expect(match({ system: S, code: 'a1', display: 'Alpha one' })).toBe(false);
    expect(textMatcher('lpha')({ system: S, code: 'a', display: 'Alpha' })).toBe(false);
    expect(textMatcher('a1')({ system: S, code: 'a1x', display: 'x' })).toBe(true);
  });
});

describe('lookupConcept and checkCodings', () => {
  it('answers display, properties and hierarchy for a code, and nothing for an unknown one', () => {
    const answer = lookupConcept(cs as never, 'a1')!;
    expect(answer.parameter.find((p) => p.name === 'display')).toEqual({ name: 'display', valueString: 'Alpha one' });
    const props = answer.parameter.filter((p) => p.name === 'property').map((p: any) => `${p.part[0].valueCode}=${p.part[1].valueCode}`);
    expect(props).toEqual(['parent=a', 'child=a1x']);
    expect(lookupConcept(cs as never, 'zzz')).toBeUndefined();
  });

  it('validates codings against an expansion: membership, display, abstract codes, any coding of a concept', () => {
    const entries = expandValueSet(vs({ include: [{ system: S }] }), source, { maxEntries: 100 }).entries;
    expect(checkCodings([{ system: S, code: 'a' }], entries, 'vs')).toEqual({ result: true, display: 'Alpha' });
    expect(checkCodings([{ system: S, code: 'a', display: 'Alpha' }], entries, 'vs').result).toBe(true);
    expect(checkCodings([{ system: S, code: 'a', display: 'Alfa' }], entries, 'vs').result).toBe(false);
    expect(checkCodings([{ system: S, code: 'b' }], entries, 'vs').result).toBe(false);
    expect(checkCodings([{ system: S, code: 'b' }], entries, 'vs', true).result).toBe(true);
    expect(checkCodings([{ system: 'http://other', code: 'a' }, { system: S, code: 'c' }], entries, 'vs').result).toBe(true);
    expect(checkCodings([{ system: S, code: 'q' }], entries, 'vs').message).toContain('not in the value set vs');
  });
});

/**
 * Issue 14, second review, item 3: a Bundle body is split into entries without being parsed
 * (`splitBundleText`), its bounds checked and its resources validated in time slices
 * (`assertBundleBounds`, `validateResourceInSlices`). Each must answer exactly what the one-go
 * version answers.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { assertBundleBounds, assertResourceBounds } from '../../src/fhir/assert-resource-bounds.ts';
import { FhirError } from '../../src/fhir/outcomes.ts';
import { parseFhirJson, stringifyFhirJson, stringifyFhirJsonInSlices } from '../../src/fhir/fhir-json.ts';
import { splitBundleText } from '../../src/fhir/split-bundle-text.ts';
import { TimeSlice } from '../../src/fhir/time-slice.ts';
import { validateResource, validateResourceInSlices } from '../../src/fhir/validate-resource.ts';

/** A slice always used up: every step pauses. */
const eager = () => new TimeSlice(0);

async function reassemble(text: string): Promise<unknown> {
  const split = await splitBundleText(text, 10_000, eager());
  if (split === undefined || split === 'too-many') return split;
  const bundle = JSON.parse(split.shell) as Record<string, unknown>;
  bundle.entry = split.entries.map((entry) => JSON.parse(entry));
  return bundle;
}

describe('splitBundleText', () => {
  it.each([
    '{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/1"}},{"fullUrl":"a,b]}[{","request":{"method":"GET","url":"Patient/2"}}],"total":2}',
    ' { "entry" : [ ] , "resourceType" : "Bundle" } ',
    '{"resourceType":"Bundle","meta":{"tag":[{"code":"entry"}]},"entry":[{"resource":{"resourceType":"Basic","entry":[1,2]}}],"link":[{"relation":"x\\"entry"}]}',
    '{"entry":[{"a":"\\\\"},{"b":"\\\\\\""}],"resourceType":"Bundle"}',
  ])('splits %s into pieces that parse back to the same Bundle', async (text) => {
    expect(await reassemble(text)).toEqual(JSON.parse(text));
  });

  it.each([
    '[{"entry":[]}]', '{"resourceType":"Bundle"}', '{"entry":[1,,2]}', '{"entry":[1,2,]}', '{"entry":[1],"entry":[2]}', '{"entry":[1}', '{"entry":{"a":1}}', '{"entry":[1]',
  ])('leaves %s to be parsed whole', async (text) => {
    expect(await splitBundleText(text, 10, eager())).toBeUndefined();
  });

  it('stops at the first entry over the limit', async () => {
    expect(await splitBundleText(`{"entry":[${'1,'.repeat(11)}1]}`, 10, eager())).toBe('too-many');
    expect(await splitBundleText(`{"entry":[${'1,'.repeat(9)}1]}`, 10, eager())).not.toBe('too-many');
  });
});

/** The error a synchronous check throws, or undefined. */
function caught(check: () => void): FhirError | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    return err as FhirError;
  }
}

describe('assertBundleBounds', () => {
  const limits = { ...DEFAULT_LIMITS.resource, maxItems: 1_000, maxRepeats: 100 };
  const entry = (resource: unknown) => ({ request: { method: 'POST', url: 'Basic' }, resource });
  it.each([
    ['within every bound', { resourceType: 'Bundle', type: 'transaction', entry: [entry({ resourceType: 'Basic', extension: Array(50).fill({ url: 'x' }) })] }],
    ['an entry resource over the item budget', { resourceType: 'Bundle', entry: [entry({ a: 1 }), entry({ a: Array(99).fill(Array(20).fill(1)) })] }],
    ['the shell over the item budget', { resourceType: 'Bundle', meta: { tag: Array(99).fill({ a: Array(20).fill(1) }) }, entry: [] }],
    ['entries over the budget outside their resources', { resourceType: 'Bundle', entry: Array(99).fill({ request: { method: 'GET', url: 'x', ifMatch: 'y' }, search: { mode: 'match' }, fullUrl: 'z' }) }],
    ['too many entries', { resourceType: 'Bundle', entry: Array(101).fill({}) }],
    ['a long array in an entry', { resourceType: 'Bundle', entry: [entry({ given: Array(101).fill('a') })] }],
  ])('answers as assertResourceBounds does: %s', async (_name, bundle) => {
    const expected = caught(() => assertResourceBounds(bundle, 'Bundle', limits));
    let actual: FhirError | undefined;
    try {
      await assertBundleBounds(bundle as Record<string, unknown>, limits, eager());
    } catch (err) {
      actual = err as FhirError;
    }
    expect(actual?.outcome).toEqual(expected?.outcome);
  });
});

describe('validateResourceInSlices', () => {
  it('finds what validateResource finds, in the same order, valid or not', async () => {
    const resources: unknown[] = [
      { resourceType: 'Patient', id: 'p', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div>' }, name: [{ family: 'F', given: ['a', 'b'] }], birthDate: '1970-01-01', _birthDate: { extension: [{ url: 'u', valueString: 'x' }] } },
      { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '1-1' }] }, component: [{ code: { text: 'a' }, valueQuantity: { value: 1 } }, { code: {} }], valueString: 'v', valueBoolean: true },
      { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', gender: 'nope' } }, { resource: { resourceType: 'Basic' } }, { fullUrl: 1 }] },
      { resourceType: 'Patient', extension: [{ url: 'a' }, { url: 'b', valueString: 'x', extension: [{ url: 'c', valueCode: 'y' }] }], contained: [{ resourceType: 'Basic', code: { text: 'c' } }] },
    ];
    resources.push(
      { resourceType: 'Patient', name: [{ given: [null, 'a'] }], _name: 1, gender: 'x', unknown: true, birthDate: '2020-13-01' },
      { resourceType: 'Observation', status: 'final' },
      { resourceType: 'Patient' },
      { resourceType: 'Nope' },
      [],
    );
    for (const resource of resources) {
      const type = (resource as { resourceType?: string }).resourceType ?? 'Patient';
      expect(await validateResourceInSlices(resource, type, eager())).toEqual(validateResource(resource, type));
    }
  });
});

describe('stringifyFhirJsonInSlices', () => {
  it.each([
    '{"resourceType":"Bundle","id":"b","entry":[{"resource":{"resourceType":"Observation","valueQuantity":{"value":1.50}}},null,{"fullUrl":"x"}],"total":3,"signature":{"data":"entry"}}',
    '{"resourceType":"Bundle","entry":[{"a":1}]}',
    '{"resourceType":"Patient","name":[{"family":"x"}]}',
  ])('writes %s as stringifyFhirJson does, exact decimals kept', async (text) => {
    const value = parseFhirJson(text);
    expect(await stringifyFhirJsonInSlices(value, eager())).toBe(stringifyFhirJson(value));
  });
});

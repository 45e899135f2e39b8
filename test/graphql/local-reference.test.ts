/**
 * `parseLocalReference` (src/graphql/local-reference.ts) reads a reference as the regex
 * `Reference.resource` used before it did, without that regex's polynomial backtracking.
 */
import { describe, expect, it } from 'vitest';
import { parseLocalReference } from '../../src/graphql/local-reference.ts';

/** The regex it replaces, kept here as the specification. */
const LOCAL_REFERENCE = /^(?:.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

function byRegex(reference: string): { type: string; id: string } | undefined {
  const match = LOCAL_REFERENCE.exec(reference);
  return match ? { type: match[1], id: match[2] } : undefined;
}

describe('parseLocalReference', () => {
  it('names the type and id of relative, absolute and versioned references, and nothing else', () => {
    expect(parseLocalReference('Patient/1')).toEqual({ type: 'Patient', id: '1' });
    expect(parseLocalReference('http://example.org/fhir/Patient/a-1.b')).toEqual({ type: 'Patient', id: 'a-1.b' });
    expect(parseLocalReference('Patient/1/_history/2')).toEqual({ type: 'Patient', id: '1' });
    for (const none of ['', 'Patient', 'Patient/', '#contained', 'patient/1', 'P/1', 'Patient/1/_history/', 'urn:uuid:1']) {
      expect(parseLocalReference(none)).toBeUndefined();
    }
  });

  it('agrees with the regex it replaces on generated references', () => {
    const parts = ['Patient', 'Observation', 'P', 'patient', '1', 'a.b-c', '_history', '2', '', 'http:', 'x\ny', 'é', 'A'.repeat(65), '0'.repeat(65)];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % parts.length;
    for (let i = 0; i < 20_000; i++) {
      const reference = Array.from({ length: 1 + (i % 7) }, () => parts[next()]).join('/');
      expect(parseLocalReference(reference), reference).toEqual(byRegex(reference));
    }
  });

  it('reads a long hostile reference in linear time', () => {
    const hostile = `${'A/'.repeat(50_000)}!`;
    const started = performance.now();
    expect(parseLocalReference(hostile)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

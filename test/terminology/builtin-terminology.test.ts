import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CODE_SYSTEMS_PATH, BUILTIN_VALUE_SETS_PATH, loadBuiltinTerminology } from '../../src/terminology/builtin-terminology.ts';
import { buildCompactTerminology } from '../../src/terminology/compact-definitions.ts';
import { readTerminologySources } from '../../src/terminology/terminology-sources.ts';

describe('the built-in terminology', () => {
  it('is up to date with the definitions package (run `npm run codegen` when this fails)', () => {
    const { resources, expansions } = readTerminologySources();
    const { codeSystems, valueSets } = buildCompactTerminology(resources, expansions);
    const committedCs = readFileSync(BUILTIN_CODE_SYSTEMS_PATH, 'utf8');
    const committedVs = readFileSync(BUILTIN_VALUE_SETS_PATH, 'utf8');
    expect(committedCs.length).toBe(codeSystems.length);
    expect(committedCs === codeSystems).toBe(true);
    expect(committedVs.length).toBe(valueSets.length);
    expect(committedVs === valueSets).toBe(true);
  }, 60_000);

  it('loads once, asynchronously, and finds shipped resources by url and version', async () => {
    const [a, b] = await Promise.all([loadBuiltinTerminology(), loadBuiltinTerminology()]);
    expect(a).toBe(b);
    expect(a.valueSet('http://hl7.org/fhir/ValueSet/administrative-gender')?.compose?.include?.[0].system).toBe('http://hl7.org/fhir/administrative-gender');
    expect(a.codeSystem('http://hl7.org/fhir/administrative-gender', '4.0.1')?.concept?.map((c) => c.code)).toEqual(['male', 'female', 'other', 'unknown']);
    expect(a.codeSystem('http://hl7.org/fhir/administrative-gender', '9.9')).toBeUndefined();
    // Narrative and publishing metadata are dropped; published expansions kept only where whole.
    expect(readFileSync(BUILTIN_CODE_SYSTEMS_PATH, 'utf8')).not.toContain('"text":{');
    expect(a.valueSet('http://hl7.org/fhir/ValueSet/currencies')?.expansion?.contains?.length).toBeGreaterThan(100);
    expect(a.valueSet('http://hl7.org/fhir/ValueSet/clinical-findings')?.expansion).toBeUndefined();
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseFhirJson, stringifyFhirJson } from '../../src/fhir/fhir-json.ts';
import { validateResource } from '../../src/fhir/validate-resource.ts';
import {
  directoryReferences, generateBundles, generateClinicalBundles, planSeed, serializeBundle, type SeedBundle, type SeedPlan,
} from '../../scripts/seed/generate-bundles.ts';
import { Random } from '../../scripts/seed/random.ts';

function wire(plan: SeedPlan): string[] {
  return [...generateBundles(plan)].map((b) => serializeBundle(b.bundle));
}

function digest(texts: string[]): string {
  const hash = createHash('sha256');
  for (const text of texts) hash.update(text).update('\n');
  return hash.digest('hex');
}

function countTypes(bundles: Iterable<SeedBundle>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { bundle } of bundles) for (const e of bundle.entry) counts[e.resource.resourceType] = (counts[e.resource.resourceType] ?? 0) + 1;
  return counts;
}

/** Every `reference` string in a resource. */
function referencesIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) referencesIn(item, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'reference' && typeof value === 'string') out.push(value);
      else referencesIn(value, out);
    }
  }
  return out;
}

describe('Random', () => {
  it('gives the same stream for the same seed and stream path, another for others', () => {
    const draw = (...key: number[]) => { const r = new Random(key[0], ...key.slice(1)); return Array.from({ length: 8 }, () => r.nextUint32()); };
    expect(draw(1, 3, 17)).toEqual(draw(1, 3, 17));
    expect(draw(1, 3, 17)).not.toEqual(draw(1, 3, 18));
    expect(draw(1, 3, 17)).not.toEqual(draw(2, 3, 17));
  });

  it('draws integers within bounds and RFC 4122-shaped UUIDs', () => {
    const r = new Random(42);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(-3, 3);
      expect(n).toBeGreaterThanOrEqual(-3);
      expect(n).toBeLessThanOrEqual(3);
    }
    expect(r.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('generateBundles', () => {
  it('produces byte-identical bundles for the same seed and scale, different ones for another seed', () => {
    const first = wire(planSeed({ scale: 3000, seed: 7 }));
    const again = wire(planSeed({ scale: 3000, seed: 7 }));
    expect(again.length).toBe(first.length);
    expect(digest(again)).toBe(digest(first));
    expect(digest(wire(planSeed({ scale: 3000, seed: 8 })))).not.toBe(digest(first));
  });

  it('generates the same resources whatever the bundle size', () => {
    const entries = (bundleSize: number) => [...generateBundles(planSeed({ scale: 1500, seed: 3, bundleSize }))]
      .flatMap((b) => b.bundle.entry.map((e) => stringifyFhirJson(e)));
    expect(entries(60)).toEqual(entries(500));
  });

  it('sizes the run to the scale with the expected mix of resource types', () => {
    const plan = planSeed({ scale: 5000, seed: 11 });
    const counts = countTypes(generateBundles(plan));
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(plan.resources);
    expect(total).toBeGreaterThanOrEqual(5000);
    expect(total).toBeLessThan(5000 + 30);
    const patients = counts.Patient;
    expect(patients).toBe(plan.patients);
    expect(patients).toBeGreaterThan(280);
    expect(patients).toBeLessThan(325);
    expect(counts.Encounter / patients).toBeGreaterThan(1.8);
    expect(counts.Encounter / patients).toBeLessThan(2.2);
    expect(counts.Observation / patients).toBeGreaterThan(9.6);
    expect(counts.Observation / patients).toBeLessThan(10.4);
    expect(counts.Condition / patients).toBeGreaterThan(1.35);
    expect(counts.Condition / patients).toBeLessThan(1.65);
    expect(counts.MedicationRequest).toBe(patients);
    expect(counts.Appointment).toBe(patients);
    expect(counts.Practitioner).toBe(Math.max(5, Math.ceil(patients / 50)));
    expect(counts.Organization).toBe(3);
  });

  it('plans one practitioner per 50 patients and one organization per 500 at 100k', () => {
    const plan = planSeed({ scale: 100_000, seed: 1 });
    expect(plan.resources - 100_000).toBeLessThan(30);
    expect(plan.patients / plan.practitioners).toBeCloseTo(50, -1);
    expect(plan.patients / plan.organizations).toBeGreaterThan(450);
    expect(plan.patients / plan.organizations).toBeLessThanOrEqual(500);
  });

  it('makes every resource of a 300-resource sample valid R4, as the server will parse it', () => {
    const plan = planSeed({ scale: 300, seed: 5 });
    let resources = 0;
    for (const { bundle } of generateBundles(plan)) {
      const parsed = parseFhirJson(serializeBundle(bundle)) as { entry: { resource: { resourceType: string } }[] };
      expect(validateResource(parsed, 'Bundle')).toEqual([]);
      for (const { resource } of parsed.entry) {
        resources++;
        const issues = validateResource(resource, resource.resourceType);
        expect(issues, `${resource.resourceType}: ${JSON.stringify(issues)}`).toEqual([]);
      }
    }
    expect(resources).toBeGreaterThanOrEqual(300);
    expect(resources).toBe(plan.resources);
  });

  it('keeps every reference resolvable: urn:uuid inside the bundle, directory ids from the earlier bundles', () => {
    const plan = planSeed({ scale: 2500, seed: 9, bundleSize: 200 });
    const directory = new Set<string>();
    let seenClinical = false;
    for (const { phase, bundle } of generateBundles(plan)) {
      expect(bundle.entry.length).toBeLessThanOrEqual(200);
      if (phase === 'directory') {
        expect(seenClinical, 'directory bundles come first').toBe(false);
        for (const e of bundle.entry) {
          expect(e.request).toEqual({ method: 'PUT', url: `${e.resource.resourceType}/${e.resource.id}` });
          directory.add(e.request.url);
        }
        continue;
      }
      seenClinical = true;
      const fullUrls = new Set(bundle.entry.map((e) => e.fullUrl));
      expect(fullUrls.size).toBe(bundle.entry.length);
      for (const e of bundle.entry) {
        expect(e.fullUrl).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
        expect(e.request).toEqual({ method: 'POST', url: e.resource.resourceType });
        for (const ref of referencesIn(e.resource)) {
          if (ref.startsWith('urn:uuid:')) expect(fullUrls.has(ref), `${ref} in ${e.resource.resourceType}`).toBe(true);
          else expect(directory.has(ref), `${ref} in ${e.resource.resourceType}`).toBe(true);
        }
      }
    }
    expect(directory).toEqual(directoryReferences(plan));
  });

  it('links each family together and to the directory', () => {
    const plan = planSeed({ scale: 200, seed: 2 });
    const [first] = generateClinicalBundles(plan);
    const patient = first.bundle.entry[0];
    expect(patient.resource.resourceType).toBe('Patient');
    expect(patient.resource.managingOrganization).toEqual({ reference: expect.stringMatching(/^Organization\/org-\d+$/) });
    expect(patient.resource.generalPractitioner).toEqual([{ reference: expect.stringMatching(/^Practitioner\/prac-\d+$/) }]);
    const next = first.bundle.entry.findIndex((e, i) => i > 0 && e.resource.resourceType === 'Patient');
    const family = first.bundle.entry.slice(0, next === -1 ? undefined : next);
    const observation = family.find((e) => e.resource.resourceType === 'Observation')!.resource;
    expect(observation.subject).toEqual({ reference: patient.fullUrl });
    expect((observation.encounter as { reference: string }).reference).toMatch(/^urn:uuid:/);
    expect(observation.performer).toEqual([{ reference: expect.stringMatching(/^Practitioner\/prac-\d+$/) }]);
    expect(observation.effectiveDateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const appointment = family.find((e) => e.resource.resourceType === 'Appointment')!.resource;
    expect((appointment.participant as { actor: { reference: string } }[]).map((p) => p.actor.reference))
      .toEqual([patient.fullUrl, expect.stringMatching(/^Practitioner\/prac-\d+$/)]);
  });

  it('writes LOINC-coded quantities in UCUM with exact decimals (trailing zeros kept)', () => {
    const text = wire(planSeed({ scale: 2000, seed: 4 })).join('\n');
    expect(text).toMatch(/"valueQuantity":\{"value":\d+\.\d*0,"unit"/);
    const exact: string[] = text.match(/"value":\d+\.\d*0(?=,)/g) ?? [];
    expect(exact.length).toBeGreaterThan(10);
    // What the server parses it back into keeps the digits.
    const sample = `{"v":${exact[0].slice('"value":'.length)}}`;
    expect(stringifyFhirJson(parseFhirJson(sample))).toBe(sample);
    for (const code of ['8867-4', '55284-4', '8480-6', '8462-4', '29463-7', '8302-2']) expect(text).toContain(`"system":"http://loinc.org","code":"${code}"`);
    expect(text).toContain('"system":"http://unitsofmeasure.org","code":"mm[Hg]"');
    expect(text).toContain('"system":"http://snomed.info/sct"');
    expect(text).toContain('"system":"http://www.nlm.nih.gov/research/umls/rxnorm"');
  });

  it('refuses a scale or seed out of range', () => {
    expect(() => planSeed({ scale: 0, seed: 1 })).toThrow(RangeError);
    expect(() => planSeed({ scale: 10, seed: -1 })).toThrow(RangeError);
    expect(() => planSeed({ scale: 10.5, seed: 1 })).toThrow(RangeError);
  });
});

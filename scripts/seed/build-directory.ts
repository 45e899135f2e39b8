/**
 * The provider directory the clinical data points at: Organizations and Practitioners with
 * client-chosen ids (`Organization/org-3`, `Practitioner/prac-17`), written by PUT
 * (update-as-create) so every later bundle can reference them by id.
 * https://hl7.org/fhir/R4/organization.html  https://hl7.org/fhir/R4/practitioner.html
 * https://hl7.org/fhir/R4/http.html#upsert
 */
import { Random } from './random.ts';
import { buildAddress, buildPhone, pickCity, type SeedResource } from './build-values.ts';
import { DEGREES, FAMILY_NAMES, GIVEN_NAMES, ORGANIZATION_PATTERNS, SYSTEMS, type City } from './vocabulary.ts';

/** Random-stream numbers, so each kind of record draws from its own stream. */
export const STREAM = { organization: 1, practitioner: 2, patient: 3 } as const;

/** The id of the `n`th Organization (1-based). */
export function organizationId(n: number): string {
  return `org-${n}`;
}

/** The id of the `n`th Practitioner (1-based). */
export function practitionerId(n: number): string {
  return `prac-${n}`;
}

/** The Organization a practitioner works for (practitioners are spread evenly). */
export function organizationOfPractitioner(practitioner: number, organizations: number): number {
  return ((practitioner - 1) % organizations) + 1;
}

/** The city an Organization sits in; its patients mostly live there. */
export function organizationCity(seed: number, n: number): City {
  return pickCity(new Random(seed, STREAM.organization, n));
}

/** The `n`th Organization: a provider with an identifier, address and phone. */
export function buildOrganization(seed: number, n: number): SeedResource {
  const rng = new Random(seed, STREAM.organization, n);
  const city = pickCity(rng);
  const name = rng.pick(ORGANIZATION_PATTERNS).replace('{city}', city.city);
  return {
    resourceType: 'Organization',
    id: organizationId(n),
    identifier: [{ use: 'official', system: SYSTEMS.organizationId, value: `ORG-${String(n).padStart(5, '0')}` }],
    active: true,
    type: [{ coding: [{ system: SYSTEMS.organizationType, code: 'prov', display: 'Healthcare Provider' }] }],
    name,
    telecom: [buildPhone(rng, city, 'work')],
    address: [buildAddress(rng, city, 'work')],
  };
}

/** A ten-digit, NPI-shaped number (Luhn check digit over the `80840` prefix, as real NPIs use). */
function npi(rng: Random): string {
  const body = `${rng.int(1, 2)}${rng.digits(8)}`;
  const digits = `80840${body}`.split('').map(Number);
  let sum = 0;
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = digits[i];
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

/** The `n`th Practitioner, working at {@link organizationOfPractitioner}'s address. */
export function buildPractitioner(seed: number, n: number, organizations: number): SeedResource {
  const rng = new Random(seed, STREAM.practitioner, n);
  const gender = rng.chance(0.5) ? 'female' : 'male';
  const given = rng.pick(GIVEN_NAMES[gender]);
  const family = rng.pick(FAMILY_NAMES);
  const degree = rng.weighted(DEGREES, [6, 2, 2]);
  const city = organizationCity(seed, organizationOfPractitioner(n, organizations));
  return {
    resourceType: 'Practitioner',
    id: practitionerId(n),
    identifier: [{ use: 'official', system: SYSTEMS.npi, value: npi(rng) }],
    active: true,
    name: [{ use: 'official', family, given: [given], ...(degree.code === 'NP' ? {} : { prefix: ['Dr.'] }), suffix: [degree.code] }],
    telecom: [buildPhone(rng, city, 'work'), { system: 'email', value: `${given}.${family}@provider.example.org`.toLowerCase().replace(/'/g, ''), use: 'work' }],
    address: [buildAddress(rng, city, 'work')],
    gender,
    qualification: [{ code: { coding: [{ system: SYSTEMS.degree, code: degree.code, display: degree.display }], text: degree.code } }],
  };
}

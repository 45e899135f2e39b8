/**
 * The resources of the Health Samurai CRUD mix, written for this bench after reading theirs
 * (`k6/crud.js`, whose seeds are Synthea resources): the nine types in the order they are created,
 * each a realistic R4 resource of a few hundred bytes to a few KiB, and the references each one
 * takes to those created before it in the same iteration. Every resource carries the bench's
 * `meta.tag` so that anything a broken iteration leaves behind is removed after the run
 * (`removeBenchWrites`). https://github.com/HealthSamurai/fhir-server-performance-benchmark
 */
import { BENCH_WRITE_SYSTEM } from '../lib/bench-database.ts';

export const CRUD_TYPES = ['Patient', 'Location', 'Organization', 'Practitioner', 'Encounter', 'Observation', 'MedicationRequest', 'Claim', 'ExplanationOfBenefit'] as const;
export type CrudType = (typeof CRUD_TYPES)[number];

/** `Type/id` of each resource created so far in an iteration. */
export type CreatedRefs = Partial<Record<CrudType, string>>;

const TAG = { tag: [{ system: BENCH_WRITE_SYSTEM, code: 'crud-mix' }] };
const ref = (reference: string | undefined) => ({ reference });
const SNOMED = 'http://snomed.info/sct';
const address = { use: 'home', line: ['1020 Schiller Way Apt 47'], city: 'Springfield', state: 'MA', postalCode: '01104', country: 'US' };

/** The resource of `type` to create, pointing at the resources created before it. */
export function crudResource(type: CrudType, refs: CreatedRefs, n: number): Record<string, unknown> {
  const now = new Date().toISOString();
  switch (type) {
    case 'Patient': return {
      resourceType: 'Patient', meta: TAG,
      extension: [
        { url: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName', valueString: 'Ondricka' },
        { url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Boston', state: 'MA', country: 'US' } },
      ],
      identifier: [
        { system: BENCH_WRITE_SYSTEM, value: `crud-${n}` },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical Record Number' }] }, system: 'http://hospital.smarthealthit.org', value: `mrn-${n}` },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS', display: 'Social Security Number' }] }, system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-74-9175' },
      ],
      name: [{ use: 'official', family: 'Kautzer', given: ['Carolynn', 'Emilia'], prefix: ['Mrs.'] }, { use: 'maiden', family: 'Ondricka', given: ['Carolynn'] }],
      telecom: [{ system: 'phone', value: '555-463-2041', use: 'home' }],
      gender: 'female', birthDate: '1964-04-23', address: [address],
      maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M', display: 'Married' }], text: 'Married' },
      multipleBirthBoolean: false,
      communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en-US', display: 'English' }], text: 'English' } }],
    };
    case 'Location': return {
      resourceType: 'Location', meta: TAG, status: 'active', name: 'BAYSTATE MEDICAL CENTER',
      telecom: [{ system: 'phone', value: '4137942000' }],
      address: { line: ['759 CHESTNUT STREET'], city: 'SPRINGFIELD', state: 'MA', postalCode: '01199', country: 'US' },
      position: { longitude: -72.6, latitude: 42.12 },
    };
    case 'Organization': return {
      resourceType: 'Organization', meta: TAG, active: true, name: 'BAYSTATE MEDICAL CENTER',
      identifier: [{ system: 'https://github.com/synthetichealth/synthea', value: `org-${n}` }],
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }], text: 'Healthcare Provider' }],
      telecom: [{ system: 'phone', value: '4137942000' }],
      address: [{ line: ['759 CHESTNUT STREET'], city: 'SPRINGFIELD', state: 'MA', postalCode: '01199', country: 'US' }],
    };
    case 'Practitioner': return {
      resourceType: 'Practitioner', meta: TAG, active: true,
      identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: String(9_999_900_000 + (n % 99_999)) }],
      name: [{ family: 'Gutkowski', given: ['Harold'], prefix: ['Dr.'] }],
      telecom: [{ system: 'email', value: 'harold.gutkowski@example.com', use: 'work' }],
      address: [{ line: ['759 CHESTNUT STREET'], city: 'SPRINGFIELD', state: 'MA', postalCode: '01199', country: 'US' }],
      gender: 'male',
    };
    case 'Encounter': return {
      resourceType: 'Encounter', meta: TAG, status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      type: [{ coding: [{ system: SNOMED, code: '185349003', display: 'Encounter for check up (procedure)' }], text: 'Encounter for check up (procedure)' }],
      subject: ref(refs.Patient),
      participant: [{
        type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PPRF', display: 'primary performer' }], text: 'primary performer' }],
        period: { start: '2024-05-30T06:16:35+00:00', end: '2024-05-30T06:31:35+00:00' },
        individual: ref(refs.Practitioner),
      }],
      period: { start: '2024-05-30T06:16:35+00:00', end: '2024-05-30T06:31:35+00:00' },
      location: [{ location: ref(refs.Location) }],
      serviceProvider: ref(refs.Organization),
    };
    case 'Observation': return {
      resourceType: 'Observation', meta: TAG, status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '8302-2', display: 'Body Height' }], text: 'Body Height' },
      subject: ref(refs.Patient), encounter: ref(refs.Encounter),
      effectiveDateTime: '2024-05-30T06:16:35+00:00', issued: now,
      valueQuantity: { value: 167.2, unit: 'cm', system: 'http://unitsofmeasure.org', code: 'cm' },
    };
    case 'MedicationRequest': return {
      resourceType: 'MedicationRequest', meta: TAG, status: 'active', intent: 'order',
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '314076', display: 'lisinopril 10 MG Oral Tablet' }], text: 'lisinopril 10 MG Oral Tablet' },
      subject: ref(refs.Patient), encounter: ref(refs.Encounter), authoredOn: '2024-05-30T06:16:35+00:00', requester: ref(refs.Practitioner),
      dosageInstruction: [{ sequence: 1, text: 'Take once a day', timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, asNeededBoolean: false,
        doseAndRate: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/dose-rate-type', code: 'ordered', display: 'Ordered' }] }, doseQuantity: { value: 1 } }] }],
    };
    case 'Claim': return {
      resourceType: 'Claim', meta: TAG, status: 'active',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'pharmacy' }] },
      use: 'claim', patient: ref(refs.Patient), billablePeriod: { start: '2024-05-30T06:16:35+00:00', end: '2025-05-30T06:16:35+00:00' },
      created: '2024-05-30T06:16:35+00:00', provider: ref(refs.Organization),
      priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/processpriority', code: 'normal' }] },
      prescription: ref(refs.MedicationRequest),
      insurance: [{ sequence: 1, focal: true, coverage: { display: 'Medicaid' } }],
      item: [{ sequence: 1, productOrService: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '314076', display: 'lisinopril 10 MG Oral Tablet' }] },
        encounter: [ref(refs.Encounter)] }],
      total: { value: 263.4, currency: 'USD' },
    };
    case 'ExplanationOfBenefit': return {
      resourceType: 'ExplanationOfBenefit', meta: TAG,
      contained: [
        { resourceType: 'ServiceRequest', id: 'referral', status: 'completed', intent: 'order',
          code: { coding: [{ system: SNOMED, code: '185349003', display: 'Encounter for check up (procedure)' }] },
          subject: ref(refs.Patient), requester: ref(refs.Practitioner), performer: [ref(refs.Patient)] },
        { resourceType: 'Coverage', id: 'coverage', status: 'active', type: { text: 'Medicaid' }, beneficiary: ref(refs.Patient), payor: [{ display: 'Medicaid' }] },
      ],
      identifier: [{ system: 'https://bluebutton.cms.gov/resources/variables/clm_id', value: `eob-${n}` }],
      status: 'active', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'pharmacy' }] },
      use: 'claim', patient: ref(refs.Patient), billablePeriod: { start: '2024-05-30T06:16:35+00:00', end: '2025-05-30T06:16:35+00:00' },
      created: '2024-05-30T06:16:35+00:00', insurer: { display: 'Medicaid' }, provider: ref(refs.Practitioner),
      referral: { reference: '#referral' }, claim: ref(refs.Claim), outcome: 'complete',
      careTeam: [{ sequence: 1, provider: ref(refs.Practitioner),
        role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claimcareteamrole', code: 'primary', display: 'Primary Care Practitioner' }] } }],
      insurance: [{ focal: true, coverage: { reference: '#coverage', display: 'Medicaid' } }],
      item: [{ sequence: 1, productOrService: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '314076', display: 'lisinopril 10 MG Oral Tablet' }] },
        servicedPeriod: { start: '2024-05-30T06:16:35+00:00', end: '2024-05-30T06:31:35+00:00' }, encounter: [ref(refs.Encounter)] }],
      total: [{ category: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/adjudication', code: 'submitted', display: 'Submitted Amount' }] },
        amount: { value: 263.4, currency: 'USD' } }],
      payment: { amount: { value: 210.72, currency: 'USD' } },
    };
  }
}

/** The change an update makes, per type, as theirs: a status flipped, a name or a date renewed. */
export function changeResource(resource: Record<string, unknown>): Record<string, unknown> {
  const now = new Date().toISOString();
  switch (resource.resourceType) {
    case 'Encounter': return { ...resource, status: resource.status === 'planned' ? 'in-progress' : 'planned' };
    case 'Location': case 'Organization': return { ...resource, name: `${String(resource.name).split('-')[0]}-${Date.now()}` };
    case 'MedicationRequest': return { ...resource, status: resource.status === 'on-hold' ? 'draft' : 'on-hold' };
    case 'Observation': return { ...resource, issued: now };
    case 'Patient': case 'Practitioner': return { ...resource, gender: resource.gender === 'unknown' ? 'other' : 'unknown' };
    default: return { ...resource, created: now };
  }
}

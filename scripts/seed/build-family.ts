/**
 * One patient "family": a Patient and everything recorded about them — encounters, observations
 * (vital signs, a blood-pressure panel with components, labs with reference ranges), conditions,
 * a medication request and an appointment — cross-referenced through `urn:uuid:` fullUrls so the
 * whole family goes into one transaction Bundle, and pointing at the directory's Practitioners
 * and Organizations by id. A family is drawn from its own random stream `(seed, patient, n)`.
 * https://hl7.org/fhir/R4/http.html#trules  https://hl7.org/fhir/R4/observation-vitalsigns.html
 */
import { Random } from './random.ts';
import {
  DAY_MS, MINUTE_MS, SEED_EPOCH_MS, buildAddress, buildPhone, concept, formatDate, formatDateTime, pickCity, reference,
  type EncounterFacts, type PatientFacts, type SeedResource,
} from './build-values.ts';
import { STREAM, organizationCity, organizationId, organizationOfPractitioner, practitionerId } from './build-directory.ts';
import { buildObservation } from './build-observation.ts';
import {
  APPOINTMENT_TYPES, CONDITIONS, ENCOUNTER_CLASS_DISPLAY, ENCOUNTER_TYPES, FAMILY_NAMES, GIVEN_NAMES, MARITAL_STATUSES,
  MARITAL_STATUS_WEIGHTS, MEDICATIONS, SYSTEMS, type ConditionSpec,
} from './vocabulary.ts';

/** How many practitioners and organizations exist, so a family can point at them. */
export interface FamilyContext {
  seed: number;
  practitioners: number;
  organizations: number;
}

/** How many resources of each kind a family holds (drawn first, so a plan can count cheaply). */
export interface FamilyShape {
  encounters: number;
  observations: number;
  conditions: number;
  medicationRequests: number;
  appointments: number;
}

/** A Bundle entry's resource and its `urn:uuid:` fullUrl. */
export interface FamilyEntry {
  fullUrl: string;
  resource: SeedResource;
}

interface ConditionFacts {
  urn: string;
  spec: ConditionSpec;
  encounter: EncounterFacts;
}

/** Draws a family's shape: on average 2 encounters, 10 observations, 1.5 conditions, 1 + 1. */
export function drawFamilyShape(rng: Random): FamilyShape {
  return { encounters: rng.int(1, 3), observations: rng.int(8, 12), conditions: rng.chance(0.5) ? 2 : 1, medicationRequests: 1, appointments: 1 };
}

/** Resources in a family of this shape, the Patient included. */
export function familySize(shape: FamilyShape): number {
  return 1 + shape.encounters + shape.observations + shape.conditions + shape.medicationRequests + shape.appointments;
}

/** The number of resources in patient `n`'s family, without building it. */
export function familySizeOf(seed: number, n: number): number {
  return familySize(drawFamilyShape(new Random(seed, STREAM.patient, n)));
}

/** Builds patient `n`'s family (1-based), Patient first. */
export function buildFamily(ctx: FamilyContext, n: number): FamilyEntry[] {
  const rng = new Random(ctx.seed, STREAM.patient, n);
  const shape = drawFamilyShape(rng);
  const entries: FamilyEntry[] = [];
  const add = (resource: SeedResource): string => {
    const fullUrl = `urn:uuid:${rng.uuid()}`;
    entries.push({ fullUrl, resource });
    return fullUrl;
  };
  const patient = buildPatient(rng, ctx, n, add);
  const encounters = buildEncounters(rng, ctx, patient, shape.encounters, add);
  for (let i = 0; i < shape.observations; i++) {
    add(buildObservation(rng, patient, encounters[i % encounters.length], i));
  }
  const conditions = buildConditions(rng, patient, encounters, shape.conditions, add);
  for (let i = 0; i < shape.medicationRequests; i++) add(buildMedicationRequest(rng, patient, conditions[i % conditions.length]));
  for (let i = 0; i < shape.appointments; i++) add(buildAppointment(rng, patient, encounters[encounters.length - 1], conditions));
  return entries;
}

function buildPatient(rng: Random, ctx: FamilyContext, n: number, add: (r: SeedResource) => string): PatientFacts {
  const gender = rng.chance(0.5) ? 'female' : 'male';
  const gp = rng.int(1, ctx.practitioners);
  const organization = organizationOfPractitioner(gp, ctx.organizations);
  const city = rng.chance(0.8) ? organizationCity(ctx.seed, organization) : pickCity(rng);
  const given = [rng.pick(GIVEN_NAMES[gender])];
  if (rng.chance(0.4)) given.push(rng.pick(GIVEN_NAMES[gender]));
  const family = rng.pick(FAMILY_NAMES);
  const age = rng.int(18, 92);
  const birthMs = SEED_EPOCH_MS - Math.round(age * 365.25 + rng.int(0, 364)) * DAY_MS;
  const marital = rng.weighted(MARITAL_STATUSES, MARITAL_STATUS_WEIGHTS);
  const prefix = gender === 'male' ? 'Mr.' : marital.code === 'M' ? 'Mrs.' : 'Ms.';
  const telecom = [buildPhone(rng, city, 'home')];
  if (rng.chance(0.6)) telecom.push(buildPhone(rng, city, 'mobile'));
  if (rng.chance(0.5)) telecom.push({ system: 'email', value: `${given[0]}.${family}${rng.int(1, 99)}@mail.example.com`.toLowerCase().replace(/'/g, ''), use: 'home' });
  const urn = add({
    resourceType: 'Patient',
    identifier: [
      { use: 'usual', type: { coding: [{ system: SYSTEMS.identifierType, code: 'MR', display: 'Medical record number' }] }, system: SYSTEMS.mrn, value: `${ctx.seed}-${String(n).padStart(7, '0')}` },
      { use: 'official', type: { coding: [{ system: SYSTEMS.identifierType, code: 'SS', display: 'Social Security number' }] }, system: SYSTEMS.ssn, value: `999-${rng.digits(2)}-${rng.digits(4)}` },
    ],
    active: true,
    name: [{ use: 'official', family, given, prefix: [prefix] }],
    telecom,
    gender,
    birthDate: formatDate(birthMs),
    address: [buildAddress(rng, city, 'home')],
    maritalStatus: concept(SYSTEMS.maritalStatus, marital),
    generalPractitioner: [reference(`Practitioner/${practitionerId(gp)}`)],
    managingOrganization: reference(`Organization/${organizationId(organization)}`),
  });
  const heightCm = gender === 'male' ? rng.float(163, 193) : rng.float(151, 179);
  return { urn, gp, organization, gender, heightCm, bmi: rng.float(19, 36) };
}

function buildEncounters(rng: Random, ctx: FamilyContext, patient: PatientFacts, count: number, add: (r: SeedResource) => string): EncounterFacts[] {
  const days = Array.from({ length: count }, () => rng.int(2, 3 * 365)).sort((a, b) => b - a);
  return days.map((daysBack) => {
    const type = rng.weighted(ENCOUNTER_TYPES, [5, 3, 4, 4, 3, 1, 1.5, 0.5]);
    // Office hours 08:00–16:00 US Eastern, written in UTC (+5 h).
    const startMs = SEED_EPOCH_MS - daysBack * DAY_MS + (rng.int(8 * 4, 16 * 4) * 15 + 5 * 60) * MINUTE_MS;
    const endMs = startMs + rng.int(type.minutes[0], type.minutes[1]) * MINUTE_MS;
    const practitioner = rng.chance(0.75) ? patient.gp : rng.int(1, ctx.practitioners);
    const urn = add({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: SYSTEMS.actCode, code: type.classCode, display: ENCOUNTER_CLASS_DISPLAY[type.classCode] },
      type: [concept(SYSTEMS.snomed, type)],
      subject: reference(patient.urn),
      participant: [{ individual: reference(`Practitioner/${practitionerId(practitioner)}`) }],
      period: { start: formatDateTime(startMs), end: formatDateTime(endMs) },
      serviceProvider: reference(`Organization/${organizationId(organizationOfPractitioner(practitioner, ctx.organizations))}`),
    });
    return { urn, startMs, endMs, practitioner };
  });
}

function buildConditions(rng: Random, patient: PatientFacts, encounters: EncounterFacts[], count: number, add: (r: SeedResource) => string): ConditionFacts[] {
  const result: ConditionFacts[] = [];
  while (result.length < count) {
    const spec = rng.pick(CONDITIONS);
    if (result.some((c) => c.spec.code === spec.code)) continue;
    const encounter = rng.pick(encounters);
    const onsetMs = spec.acute ? encounter.startMs - rng.int(1, 5) * DAY_MS : encounter.startMs - rng.int(0, 6 * 365) * DAY_MS;
    const resource: SeedResource = {
      resourceType: 'Condition',
      clinicalStatus: { coding: [{ system: SYSTEMS.conditionClinical, code: spec.acute ? 'resolved' : 'active', display: spec.acute ? 'Resolved' : 'Active' }] },
      verificationStatus: { coding: [{ system: SYSTEMS.conditionVerification, code: 'confirmed', display: 'Confirmed' }] },
      category: [{
        coding: [spec.acute
          ? { system: SYSTEMS.conditionCategory, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }
          : { system: SYSTEMS.conditionCategory, code: 'problem-list-item', display: 'Problem List Item' }],
      }],
      code: concept(SYSTEMS.snomed, spec),
      subject: reference(patient.urn),
      encounter: reference(encounter.urn),
      onsetDateTime: formatDate(onsetMs),
      ...(spec.acute ? { abatementDateTime: formatDate(encounter.startMs + rng.int(5, 21) * DAY_MS) } : {}),
      recordedDate: formatDateTime(encounter.endMs),
      recorder: reference(`Practitioner/${practitionerId(encounter.practitioner)}`),
    };
    result.push({ urn: add(resource), spec, encounter });
  }
  return result;
}

const MEDICATIONS_BY_CONDITION = new Map<string, typeof MEDICATIONS[number][]>();
for (const medication of MEDICATIONS) {
  for (const code of medication.treats) MEDICATIONS_BY_CONDITION.set(code, [...(MEDICATIONS_BY_CONDITION.get(code) ?? []), medication]);
}

function buildMedicationRequest(rng: Random, patient: PatientFacts, condition: ConditionFacts): SeedResource {
  const medication = rng.pick(MEDICATIONS_BY_CONDITION.get(condition.spec.code) ?? MEDICATIONS);
  const { encounter } = condition;
  return {
    resourceType: 'MedicationRequest',
    status: condition.spec.acute ? 'completed' : 'active',
    intent: 'order',
    medicationCodeableConcept: concept(SYSTEMS.rxnorm, medication),
    subject: reference(patient.urn),
    encounter: reference(encounter.urn),
    authoredOn: formatDateTime(encounter.endMs - rng.int(1, 5) * MINUTE_MS),
    requester: reference(`Practitioner/${practitionerId(encounter.practitioner)}`),
    reasonReference: [reference(condition.urn)],
    dosageInstruction: [{ sequence: 1, text: medication.dosage }],
    dispenseRequest: {
      numberOfRepeatsAllowed: condition.spec.acute ? 0 : rng.int(1, 5),
      expectedSupplyDuration: { value: condition.spec.acute ? 10 : 30, unit: 'days', system: SYSTEMS.ucum, code: 'd' },
    },
  };
}

function buildAppointment(rng: Random, patient: PatientFacts, last: EncounterFacts, conditions: ConditionFacts[]): SeedResource {
  const future = rng.chance(0.6);
  const minutes = rng.pick([15, 20, 30, 45]);
  const startMs = future
    ? SEED_EPOCH_MS + rng.int(1, 120) * DAY_MS + (rng.int(8 * 4, 16 * 4) * 15 + 5 * 60) * MINUTE_MS
    : last.startMs;
  const type = future ? rng.pick(APPOINTMENT_TYPES) : APPOINTMENT_TYPES[0];
  const reason = rng.chance(0.5) ? rng.pick(conditions) : undefined;
  const practitioner = future ? patient.gp : last.practitioner;
  return {
    resourceType: 'Appointment',
    status: future ? 'booked' : 'fulfilled',
    appointmentType: concept(SYSTEMS.appointmentReason, type, false),
    ...(reason ? { reasonReference: [reference(reason.urn)] } : {}),
    description: reason ? `Follow-up: ${reason.spec.display.replace(/ \((disorder|finding)\)$/, '')}` : 'Routine visit',
    start: formatDateTime(startMs),
    end: formatDateTime(startMs + minutes * MINUTE_MS),
    minutesDuration: minutes,
    created: formatDateTime(startMs - rng.int(3, 60) * DAY_MS),
    participant: [
      { actor: reference(patient.urn), required: 'required', status: 'accepted' },
      { actor: reference(`Practitioner/${practitionerId(practitioner)}`), required: 'required', status: 'accepted' },
    ],
  };
}

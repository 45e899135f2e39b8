/**
 * One Observation of a patient, made during an encounter: a vital sign, the blood-pressure panel
 * (systolic and diastolic as components), or a lab result with its reference range and an
 * interpretation. Values are exact decimals in UCUM units; height, weight and BMI follow the
 * patient's own build rather than the population range.
 * https://hl7.org/fhir/R4/observation.html  https://hl7.org/fhir/R4/observation-vitalsigns.html
 */
import type { Random } from './random.ts';
import { MINUTE_MS, concept, formatDateTime, reference, ucumQuantity, type EncounterFacts, type PatientFacts, type SeedResource } from './build-values.ts';
import { practitionerId } from './build-directory.ts';
import { BLOOD_PRESSURE, QUANTITY_OBSERVATIONS, SYSTEMS, type QuantitySpec } from './vocabulary.ts';

const VITALS = QUANTITY_OBSERVATIONS.filter((s) => s.category === 'vital-signs');
const LABS = QUANTITY_OBSERVATIONS.filter((s) => s.category === 'laboratory');

const CATEGORY = {
  'vital-signs': [{ coding: [{ system: SYSTEMS.observationCategory, code: 'vital-signs', display: 'Vital Signs' }] }],
  laboratory: [{ coding: [{ system: SYSTEMS.observationCategory, code: 'laboratory', display: 'Laboratory' }] }],
} as const;

const INTERPRETATION = {
  L: { code: 'L', display: 'Low' },
  N: { code: 'N', display: 'Normal' },
  H: { code: 'H', display: 'High' },
} as const;

/**
 * Builds the `index`th observation of a patient during `encounter`: roughly one in five is a
 * blood-pressure panel, half of the rest vital signs, the others labs.
 */
export function buildObservation(rng: Random, patient: PatientFacts, encounter: EncounterFacts, index: number): SeedResource {
  const effectiveMs = Math.min(encounter.startMs + (5 + index * rng.int(1, 4)) * MINUTE_MS, encounter.endMs);
  const common = {
    resourceType: 'Observation',
    status: 'final',
  };
  const context = {
    subject: reference(patient.urn),
    encounter: reference(encounter.urn),
    effectiveDateTime: formatDateTime(effectiveMs),
  };
  const performer = [reference(`Practitioner/${practitionerId(encounter.practitioner)}`)];
  const roll = rng.next();
  if (roll < 0.2) {
    return {
      ...common,
      category: CATEGORY['vital-signs'],
      code: concept(SYSTEMS.loinc, BLOOD_PRESSURE.panel),
      ...context,
      issued: formatDateTime(effectiveMs + rng.int(0, 5) * MINUTE_MS),
      performer,
      component: bloodPressureComponents(rng),
    };
  }
  const spec = roll < 0.6 ? rng.pick(VITALS) : rng.pick(LABS);
  const value = quantityValue(rng, spec, patient);
  const issuedMs = effectiveMs + (spec.category === 'laboratory' ? rng.int(60, 48 * 60) : rng.int(0, 5)) * MINUTE_MS;
  const lab = spec.normal ? labDetails(spec, spec.normal, value) : {};
  return {
    ...common,
    category: CATEGORY[spec.category],
    code: concept(SYSTEMS.loinc, spec),
    ...context,
    issued: formatDateTime(issuedMs),
    performer,
    valueQuantity: ucumQuantity(value, spec.decimals, spec.unit),
    ...lab,
  };
}

function bloodPressureComponents(rng: Random): Record<string, unknown>[] {
  const systolic = rng.int(BLOOD_PRESSURE.systolic.min, BLOOD_PRESSURE.systolic.max);
  const diastolic = Math.min(rng.int(BLOOD_PRESSURE.diastolic.min, BLOOD_PRESSURE.diastolic.max), systolic - 25);
  return [
    { code: concept(SYSTEMS.loinc, BLOOD_PRESSURE.systolic), valueQuantity: ucumQuantity(systolic, 0, BLOOD_PRESSURE.unit) },
    { code: concept(SYSTEMS.loinc, BLOOD_PRESSURE.diastolic), valueQuantity: ucumQuantity(diastolic, 0, BLOOD_PRESSURE.unit) },
  ];
}

/** A value for `spec`, rounded to its decimals (so the interpretation matches what is sent). */
function quantityValue(rng: Random, spec: QuantitySpec, patient: PatientFacts): number {
  const scale = 10 ** spec.decimals;
  const round = (v: number) => Math.round(v * scale) / scale;
  const heightM = patient.heightCm / 100;
  switch (spec.anthropometric) {
    case 'height':
      return round(patient.heightCm + rng.float(-0.5, 0.5));
    case 'weight':
      return round(patient.bmi * heightM * heightM * rng.float(0.97, 1.03));
    case 'bmi':
      return round(patient.bmi * rng.float(0.97, 1.03));
    case undefined:
      return round(rng.float(spec.min, spec.max));
  }
}

function labDetails(spec: QuantitySpec, normal: [number, number], value: number): Record<string, unknown> {
  const flag = value < normal[0] ? INTERPRETATION.L : value > normal[1] ? INTERPRETATION.H : INTERPRETATION.N;
  return {
    interpretation: [concept(SYSTEMS.interpretation, flag, false)],
    referenceRange: [{ low: ucumQuantity(normal[0], spec.decimals, spec.unit), high: ucumQuantity(normal[1], spec.decimals, spec.unit) }],
  };
}

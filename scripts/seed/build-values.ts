/**
 * Small value builders shared by the seed generators: exact decimals, FHIR dates, references,
 * codeable concepts, addresses and phone numbers. Time is measured back from a fixed
 * {@link SEED_EPOCH_MS}, never from the clock, so the same seed always yields the same dates.
 * https://hl7.org/fhir/R4/datatypes.html
 */
import { ExactNumber } from '../../src/fhir/fhir-json.ts';
import type { Random } from './random.ts';
import { CITIES, STREETS, STREET_SUFFIXES, SYSTEMS, type City, type Concept } from './vocabulary.ts';

/** A FHIR resource as the generators build it. */
export interface SeedResource {
  resourceType: string;
  id?: string;
  [element: string]: unknown;
}

/** What the later resources need to know about the patient. */
export interface PatientFacts {
  urn: string;
  gp: number;
  organization: number;
  gender: 'female' | 'male';
  heightCm: number;
  bmi: number;
}

/** An encounter, as the resources recorded during it see it. */
export interface EncounterFacts {
  urn: string;
  startMs: number;
  endMs: number;
  practitioner: number;
}

/** The instant all generated dates are relative to: 2026-01-01T00:00:00Z. */
export const SEED_EPOCH_MS = Date.UTC(2026, 0, 1);
/** Milliseconds in a minute and in a day, for date arithmetic. */
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/**
 * A decimal with exactly `decimals` digits after the point: `72.50` stays `72.50` on the wire
 * (an {@link ExactNumber} when a JS number would drop the zeros). R4 decimals keep their precision.
 * https://hl7.org/fhir/R4/json.html#primitive
 */
export function exactDecimal(value: number, decimals: number): number | ExactNumber {
  const text = value.toFixed(decimals);
  return String(Number(text)) === text ? Number(text) : new ExactNumber(text);
}

/** A UCUM quantity. */
export function ucumQuantity(value: number, decimals: number, unit: string): Record<string, unknown> {
  return { value: exactDecimal(value, decimals), unit, system: SYSTEMS.ucum, code: unit };
}

/** `YYYY-MM-DDThh:mm:ssZ` (FHIR dateTime and instant). */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

/** `YYYY-MM-DD` (FHIR date). */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A `Reference` with a relative or `urn:uuid:` reference. */
export function reference(ref: string, display?: string): { reference: string; display?: string } {
  return display === undefined ? { reference: ref } : { reference: ref, display };
}

/** A `CodeableConcept` with one coding and the display as text. */
export function concept(system: string, code: Concept, text = true): Record<string, unknown> {
  const coding = [{ system, code: code.code, display: code.display }];
  return text ? { coding, text: code.display } : { coding };
}

/** A US street address in `city`. */
export function buildAddress(rng: Random, city: City, use: 'home' | 'work'): Record<string, unknown> {
  const line = `${rng.int(1, 9899)} ${rng.pick(STREETS)} ${rng.pick(STREET_SUFFIXES)}`;
  return {
    use,
    type: 'physical',
    line: [line],
    city: city.city,
    state: city.state,
    postalCode: `${city.zip}${rng.digits(2)}`,
    country: 'US',
  };
}

/** A fictional phone number in the city's area code (555-01xx, reserved for fiction). */
export function buildPhone(rng: Random, city: City, use: 'home' | 'work' | 'mobile'): Record<string, unknown> {
  return { system: 'phone', value: `(${city.areaCode}) 555-01${rng.digits(2)}`, use };
}

/** A city, uniformly. */
export function pickCity(rng: Random): City {
  return rng.pick(CITIES);
}

/**
 * The deterministic synthetic-data generator behind `npm run seed` and the bench: a plan sized to
 * a total number of resources, then transaction Bundles of at most `bundleSize` entries — first
 * the directory (Organizations, Practitioners, written by PUT with fixed ids), then whole patient
 * families (POSTs linked by `urn:uuid:` fullUrls). Pure: the same seed and scale give the same
 * bundles, byte for byte, on any machine.
 * https://hl7.org/fhir/R4/http.html#transaction
 */
import { stringifyFhirJson } from '../../src/fhir/fhir-json.ts';
import { buildOrganization, buildPractitioner, organizationId, practitionerId } from './build-directory.ts';
import { buildFamily, familySizeOf, type FamilyContext } from './build-family.ts';
import type { SeedResource } from './build-values.ts';

/** Entries per Bundle unless told otherwise. */
export const DEFAULT_BUNDLE_SIZE = 500;

/** Average resources in a patient family (1 + 2 + 10 + 1.5 + 1 + 1), see `drawFamilyShape`. */
export const RESOURCES_PER_FAMILY = 16.5;
/** One practitioner per this many patients, one organization per that many. */
export const PATIENTS_PER_PRACTITIONER = 50;
export const PATIENTS_PER_ORGANIZATION = 500;
/** Even a tiny data set has a few of each, so references spread. */
export const MIN_PRACTITIONERS = 5;
export const MIN_ORGANIZATIONS = 3;

/** What to generate. */
export interface SeedOptions {
  /** Total resources wanted (the result is within one family above it). */
  scale: number;
  /** Any integer in [0, 2^32). */
  seed: number;
  bundleSize?: number;
}

/** The counts a run will produce, known before any bundle is built. */
export interface SeedPlan {
  seed: number;
  scale: number;
  bundleSize: number;
  organizations: number;
  practitioners: number;
  patients: number;
  /** Every resource the bundles carry, directory included. */
  resources: number;
}

/** A transaction Bundle entry. */
export interface SeedEntry {
  fullUrl?: string;
  resource: SeedResource;
  request: { method: 'POST' | 'PUT'; url: string };
}

/** A transaction Bundle. */
export interface TransactionBundle {
  resourceType: 'Bundle';
  type: 'transaction';
  entry: SeedEntry[];
}

/** One Bundle to post; the directory bundles must be stored before any clinical one. */
export interface SeedBundle {
  phase: 'directory' | 'clinical';
  bundle: TransactionBundle;
}

function assertInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
}

/** Sizes a run: directory counts from the expected patients, then families until `scale` is reached. */
export function planSeed(options: SeedOptions): SeedPlan {
  const { scale, seed } = options;
  const bundleSize = options.bundleSize ?? DEFAULT_BUNDLE_SIZE;
  assertInteger('scale', scale, 1, 100_000_000);
  assertInteger('seed', seed, 0, 2 ** 32 - 1);
  assertInteger('bundleSize', bundleSize, 1, 100_000);
  const perPatient = RESOURCES_PER_FAMILY + 1 / PATIENTS_PER_PRACTITIONER + 1 / PATIENTS_PER_ORGANIZATION;
  const expected = Math.max(1, Math.round(scale / perPatient));
  const practitioners = Math.max(MIN_PRACTITIONERS, Math.ceil(expected / PATIENTS_PER_PRACTITIONER));
  const organizations = Math.max(MIN_ORGANIZATIONS, Math.ceil(expected / PATIENTS_PER_ORGANIZATION));
  let resources = practitioners + organizations;
  let patients = 0;
  while (resources < scale || patients === 0) {
    patients++;
    resources += familySizeOf(seed, patients);
  }
  return { seed, scale, bundleSize, organizations, practitioners, patients, resources };
}

function directoryEntry(resource: SeedResource): SeedEntry {
  return { resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } };
}

function transaction(entry: SeedEntry[]): TransactionBundle {
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** The directory, Organizations first, in bundles of `bundleSize`. */
export function* generateDirectoryBundles(plan: SeedPlan): Generator<SeedBundle> {
  let entries: SeedEntry[] = [];
  const flush = function* (): Generator<SeedBundle> {
    if (entries.length > 0) yield { phase: 'directory', bundle: transaction(entries) };
    entries = [];
  };
  for (let n = 1; n <= plan.organizations; n++) {
    entries.push(directoryEntry(buildOrganization(plan.seed, n)));
    if (entries.length >= plan.bundleSize) yield* flush();
  }
  for (let n = 1; n <= plan.practitioners; n++) {
    entries.push(directoryEntry(buildPractitioner(plan.seed, n, plan.organizations)));
    if (entries.length >= plan.bundleSize) yield* flush();
  }
  yield* flush();
}

/** Patient families, whole, packed into bundles of at most `bundleSize` entries (a larger family goes alone). */
export function* generateClinicalBundles(plan: SeedPlan): Generator<SeedBundle> {
  const ctx: FamilyContext = { seed: plan.seed, practitioners: plan.practitioners, organizations: plan.organizations };
  let entries: SeedEntry[] = [];
  for (let n = 1; n <= plan.patients; n++) {
    const family = buildFamily(ctx, n).map(({ fullUrl, resource }): SeedEntry => ({
      fullUrl, resource, request: { method: 'POST', url: resource.resourceType },
    }));
    if (entries.length > 0 && entries.length + family.length > plan.bundleSize) {
      yield { phase: 'clinical', bundle: transaction(entries) };
      entries = [];
    }
    entries.push(...family);
  }
  if (entries.length > 0) yield { phase: 'clinical', bundle: transaction(entries) };
}

/** Every bundle of a run, directory first. */
export function* generateBundles(plan: SeedPlan): Generator<SeedBundle> {
  yield* generateDirectoryBundles(plan);
  yield* generateClinicalBundles(plan);
}

/** The wire form of a bundle: FHIR JSON with exact decimals (`72.50` stays `72.50`). */
export function serializeBundle(bundle: TransactionBundle): string {
  return stringifyFhirJson(bundle);
}

/** The ids the directory defines (`Organization/org-1`, `Practitioner/prac-1`, ...). */
export function directoryReferences(plan: SeedPlan): Set<string> {
  const refs = new Set<string>();
  for (let n = 1; n <= plan.organizations; n++) refs.add(`Organization/${organizationId(n)}`);
  for (let n = 1; n <= plan.practitioners; n++) refs.add(`Practitioner/${practitionerId(n)}`);
  return refs;
}

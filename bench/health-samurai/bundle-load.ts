/**
 * The Health Samurai Bundle load (their `k6/import.js`): each virtual user, in a loop, posts the
 * next transaction Bundle to the FHIR base and, when it is answered 200, counts its entries; the
 * figure is resources stored per second. Theirs posts Synthea patient records, one patient's
 * whole history per Bundle, after the hospital and practitioner directory; ours posts the seed
 * generator's patient families (a Patient with encounters, observations, conditions, a medication
 * request and an appointment, ~16 resources each, linked by `urn:uuid:` fullUrls) packed into
 * Bundles of at most {@link BUNDLE_LOAD_SIZE} entries, pointing at the directory the bench data
 * set already holds. The families come from another seed than the data set's, and every resource
 * carries the bench's `meta.tag`, so the run's writes are removed afterwards (`removeBenchWrites`).
 */
import { generateClinicalBundles, planSeed, serializeBundle } from '../../scripts/seed/generate-bundles.ts';
import { BENCH_WRITE_SYSTEM } from '../lib/bench-database.ts';
import type { Scenario } from '../lib/scenario-load.ts';

/** Entries per Bundle: whole families, about six. */
export const BUNDLE_LOAD_SIZE = 100;
/** Bundles prepared before the load (cycled: each POST creates new resources all the same). */
const PREPARED = 200;
const TAG = { system: BENCH_WRITE_SYSTEM, code: 'bundle-load' };

export interface PreparedBundle { body: string; entries: number }

/**
 * Transaction Bundles of new patient families for a data set loaded with the seed generator at
 * `scale` (its directory sizes, so references resolve), drawn with `seed`.
 */
export function prepareBundles(scale: number, seed = 18, count = PREPARED): PreparedBundle[] {
  const loaded = planSeed({ scale, seed: 1 });
  const plan = { ...loaded, seed, bundleSize: BUNDLE_LOAD_SIZE, patients: Math.ceil((count * BUNDLE_LOAD_SIZE) / 16) };
  const bundles: PreparedBundle[] = [];
  for (const { bundle } of generateClinicalBundles(plan)) {
    for (const entry of bundle.entry) entry.resource.meta = { tag: [TAG] };
    bundles.push({ body: serializeBundle(bundle), entries: bundle.entry.length });
    if (bundles.length === count) break;
  }
  return bundles;
}

/** The Bundle load's scenario with a bearer `token`, cycling through `bundles`. */
export function bundleLoadScenario(token: string, bundles: PreparedBundle[]): Scenario {
  let next = 0;
  return {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
    async iteration(client) {
      const bundle = bundles[next++ % bundles.length];
      const answer = await client.request('POST', '/fhir', bundle.body);
      if (answer.status === 200) client.countResources(bundle.entries);
    },
  };
}

/**
 * The synthetic-data seeder: a deterministic generator of realistic FHIR R4 transaction Bundles
 * and the loader that posts them to a running server. `scripts/seed.ts` (`npm run seed`) and the
 * bench use it.
 */
export {
  DEFAULT_BUNDLE_SIZE, directoryReferences, generateBundles, generateClinicalBundles, generateDirectoryBundles, planSeed,
  serializeBundle, type SeedBundle, type SeedEntry, type SeedOptions, type SeedPlan, type TransactionBundle,
} from './generate-bundles.ts';
export {
  SeedLoadError, TOKEN_MAX_AGE_MS, loadBundles, postBundle, refreshTokenSource, staticTokenSource,
  type LoadOptions, type LoadResult, type TokenSource,
} from './load-bundles.ts';
export { SEED_USAGE, SeedArgsError, parseScale, parseSeedArgs, type SeedArgs } from './parse-seed-args.ts';
export { ProgressBar, renderProgress } from './progress-bar.ts';
export { Random } from './random.ts';

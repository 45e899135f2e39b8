/**
 * vitest: every test file under `test/`, files in parallel (each in its own database cloned from a
 * migrated template, DECISIONS.md §9), against a real PostgreSQL found by the global setup.
 *
 * Two projects: `quick`, the files that need no PostgreSQL, server or child process and run in a
 * few seconds each (`npm run test:quick`, well under a minute), and `integration`, all the others,
 * behind the global setup. `npm test` runs both. A file that starts needing the database leaves
 * QUICK_TESTS (its `inject` finds no database there).
 */
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/** The fast files: pure code (model, validation, codegen, search extraction, scopes, seed generator). */
const QUICK_TESTS = [
  'test/auth/scopes.test.ts',
  'test/changes/criteria-every-parameter.test.ts',
  'test/bench/bench-report.test.ts',
  'test/codegen/{build-fhir-sdl,naming,schema-file}.test.ts',
  'test/fhir/{build-model,bundle-slices,expand-value-sets,fhir-json,fhir-model}.test.ts',
  'test/fhir/validate-*.test.ts',
  'test/graphql/{operation-cost,operation-gate,runtime-schema}.test.ts',
  'test/search/extract-index-rows.test.ts',
  'test/seed/{generate-bundles,seed-cli}.test.ts',
  'test/service/audit-event.test.ts',
  'test/service/subscription/{endpoint-address,rest-hook-channel}.test.ts',
  'test/webhooks/webhook-request.test.ts',
  'test/store/{connection-slots,database-unavailable}.test.ts',
  'test/store/worker-list.test.ts',
];

export default defineConfig({
  // graphql 16 ships CommonJS (`main`) and ESM (`module`) copies; Node loads the CommonJS one for
  // every importer, Vite would hand our files the ESM one. One copy, as in production.
  resolve: { alias: { graphql: require.resolve('graphql') } },
  test: {
    // Child processes rather than threads: native drivers, real servers and signals behave as in production.
    pool: 'forks',
    fileParallelism: true,
    hookTimeout: 120_000,
    testTimeout: 60_000,
    teardownTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'quick', include: QUICK_TESTS } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: QUICK_TESTS, globalSetup: ['test/helpers/global-setup.ts'] },
      },
    ],
  },
});

/**
 * vitest: every test file under `test/`, files in parallel (each in its own database cloned from a
 * migrated template, DECISIONS.md §9), against a real PostgreSQL found by the global setup.
 */
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // graphql 16 ships CommonJS (`main`) and ESM (`module`) copies; Node loads the CommonJS one for
  // every importer, Vite would hand our files the ESM one. One copy, as in production.
  resolve: { alias: { graphql: require.resolve('graphql') } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Child processes rather than threads: native drivers, real servers and signals behave as in production.
    pool: 'forks',
    fileParallelism: true,
    hookTimeout: 120_000,
    testTimeout: 60_000,
    teardownTimeout: 60_000,
  },
});

/**
 * Measures, in a fresh process started with `--expose-gc`, what the running server pays for the
 * FHIR graph: generating the SDL from the (already loaded) model plus `buildSchema`, and the heap
 * that the built schema keeps. Prints one JSON line. Run by `schema-build-cost.test.ts`;
 * `noLocation` also measures the cheaper build without source locations.
 * https://hl7.org/fhir/R4/graphql.html
 */
import { buildSchema } from 'graphql';
import { buildFhirSdl } from '../../src/codegen/index.ts';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const noLocation = process.argv.includes('--no-location');
const model = loadFhirModel();
gc();
const heapBefore = process.memoryUsage().heapUsed;
const start = performance.now();
const sdl = buildFhirSdl(model);
const generated = performance.now();
const schema = buildSchema(sdl, { noLocation });
const built = performance.now();
gc();
const heapAfter = process.memoryUsage().heapUsed;
console.log(JSON.stringify({
  noLocation,
  types: Object.keys(schema.getTypeMap()).length,
  generateMs: Math.round(generated - start),
  buildSchemaMs: Math.round(built - generated),
  totalMs: Math.round(built - start),
  heapGrowthMb: Math.round((heapAfter - heapBefore) / 2 ** 20),
  rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
}));

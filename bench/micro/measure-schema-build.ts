/**
 * Measures, in a fresh process started with `--expose-gc`, what the running server pays for the
 * FHIR graph at start: the executable schema as `buildExecutableSchema` makes it (compact SDL,
 * shared reverse-reference arguments, resolvers, federation and admin additions), and the heap
 * that it keeps. `--full-sdl` measures instead a plain `buildSchema` of the whole committed SDL
 * (no locations), for comparison. Prints one JSON line. Run by `npm run bench:micro` (the build
 * time) and by `test/codegen/schema-build-cost.test.ts` (the heap kept, which load does not move).
 * https://hl7.org/fhir/R4/graphql.html
 */
import { buildSchema, type GraphQLSchema } from 'graphql';
import { buildFhirSdl } from '../../src/codegen/index.ts';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';
import { buildExecutableSchema } from '../../src/graphql/graphql-server.ts';
import type { FhirService } from '../../src/service/fhir-service.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const fullSdl = process.argv.includes('--full-sdl');
const model = loadFhirModel();
gc();
const heapBefore = process.memoryUsage().heapUsed;
const start = performance.now();
// buildExecutableSchema only reads the service's model at build time.
const schema: GraphQLSchema = fullSdl
  ? buildSchema(buildFhirSdl(model), { noLocation: true })
  : buildExecutableSchema({ model } as FhirService);
const built = performance.now();
gc();
const heapAfter = process.memoryUsage().heapUsed;
console.log(JSON.stringify({
  fullSdl,
  types: Object.keys(schema.getTypeMap()).length,
  totalMs: Math.round(built - start),
  heapGrowthMb: Math.round((heapAfter - heapBefore) / 2 ** 20),
  rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
}));

/**
 * `npm run codegen`: derives the FHIR R4 model from `hl7.fhir.r4.examples@4.0.1` and writes
 * `src/fhir/generated/fhir-model.json` (committed). https://hl7.org/fhir/R4/downloads.html
 */
import { writeFileSync } from 'node:fs';
import { buildFhirModel, stringifyFhirModel } from '../src/fhir/build-model.ts';
import { createModelValueSetExpander } from '../src/terminology/model-value-sets.ts';
import { readModelSources } from '../src/fhir/model-sources.ts';
import { MODEL_PATH } from '../src/fhir/fhir-model.ts';

const model = buildFhirModel(readModelSources(), createModelValueSetExpander);
const text = stringifyFhirModel(model);
writeFileSync(MODEL_PATH, text);
const formatOnly = Object.entries(model.valueSets).filter(([, v]) => v.format).map(([k, v]) => `${k} (${v.format})`);
console.log(`wrote ${MODEL_PATH}: ${(text.length / 1024).toFixed(0)} KiB, ${Object.keys(model.types).length} types, ` +
  `${Object.keys(model.valueSets).length} value sets, ${model.searchParams.length} search parameters`);
if (formatOnly.length) console.log(`format-only value sets:\n  ${formatOnly.join('\n  ')}`);

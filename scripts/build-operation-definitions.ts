/**
 * `npm run codegen` (first step's companion): copies the R4 OperationDefinitions from
 * `hl7.fhir.r4.examples@4.0.1` into `src/operations/generated/operation-definitions.json` (committed).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { examplesPackageDir } from '../src/fhir/model-sources.ts';
import { OPERATION_DEFINITIONS_PATH, stringifyOfficialDefinitions } from '../src/operations/official-definitions.ts';

const dir = examplesPackageDir();
const definitions = readdirSync(dir)
  .filter((name) => name.startsWith('OperationDefinition-') && name.endsWith('.json'))
  .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>);
const text = stringifyOfficialDefinitions(definitions);
writeFileSync(OPERATION_DEFINITIONS_PATH, text);
console.log(`wrote ${OPERATION_DEFINITIONS_PATH}: ${(text.length / 1024).toFixed(0)} KiB, ${definitions.length - 1} OperationDefinitions`);

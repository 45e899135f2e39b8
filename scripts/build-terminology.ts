/**
 * `npm run codegen`: writes the built-in CodeSystems and ValueSets of R4 from
 * `hl7.fhir.r4.examples@4.0.1` into `src/terminology/generated/` (committed; see
 * src/terminology/compact-definitions.ts for what is kept).
 */
import { writeFileSync } from 'node:fs';
import { readTerminologySources } from '../src/terminology/terminology-sources.ts';
import { buildCompactTerminology } from '../src/terminology/compact-definitions.ts';
import { BUILTIN_CODE_SYSTEMS_PATH, BUILTIN_VALUE_SETS_PATH } from '../src/terminology/builtin-terminology.ts';

const { resources, expansions } = readTerminologySources();
const { codeSystems, valueSets } = buildCompactTerminology(resources, expansions);
writeFileSync(BUILTIN_CODE_SYSTEMS_PATH, codeSystems);
writeFileSync(BUILTIN_VALUE_SETS_PATH, valueSets);
const kib = (text: string) => `${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB`;
console.log(`wrote ${BUILTIN_CODE_SYSTEMS_PATH}: ${kib(codeSystems)}, ${codeSystems.split('\n').length - 3} CodeSystems`);
console.log(`wrote ${BUILTIN_VALUE_SETS_PATH}: ${kib(valueSets)}, ${valueSets.split('\n').length - 3} ValueSets (${(valueSets.match(/"expansion":/g) ?? []).length} with a published expansion)`);

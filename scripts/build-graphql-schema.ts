/**
 * Writes `schema/fhir.graphql` (committed) from the committed FHIR model: the SDL of the FHIR
 * GraphQL graph. Part of `npm run codegen`. https://hl7.org/fhir/R4/graphql.html
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderSchemaFile, SCHEMA_FILE_PATH } from '../src/codegen/index.ts';
import { loadFhirModel } from '../src/fhir/fhir-model.ts';

const text = renderSchemaFile(loadFhirModel());
mkdirSync(dirname(SCHEMA_FILE_PATH), { recursive: true });
writeFileSync(SCHEMA_FILE_PATH, text);
console.log(`wrote ${SCHEMA_FILE_PATH}: ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB`);

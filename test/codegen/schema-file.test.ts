import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderSchemaFile, SCHEMA_FILE_HEADER, SCHEMA_FILE_PATH } from '../../src/codegen/index.ts';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';

describe('schema/fhir.graphql', () => {
  it('is up to date with the model (run `npm run codegen` when this fails)', () => {
    const committed = readFileSync(SCHEMA_FILE_PATH, 'utf8');
    expect(committed.startsWith(`${SCHEMA_FILE_HEADER}\n`)).toBe(true);
    // Compare without a diff of megabytes in the failure message.
    expect(committed === renderSchemaFile(loadFhirModel())).toBe(true);
  });
});

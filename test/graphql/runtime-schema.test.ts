/**
 * The schema the server runs (`buildRuntimeSchema`, from the compact SDL with shared
 * reverse-reference arguments) is the committed schema: printed, the two are the same text.
 */
import { buildSchema, GraphQLObjectType, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildFhirSdl } from '../../src/codegen/index.ts';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';
import { buildRuntimeSchema } from '../../src/graphql/runtime-schema.ts';

const model = loadFhirModel();

describe('the runtime FHIR schema', () => {
  const runtime = buildRuntimeSchema(model);

  it('prints exactly as the full SDL does', () => {
    const full = buildSchema(buildFhirSdl(model), { noLocation: true });
    const printed = printSchema(runtime);
    expect(printed.length).toBeGreaterThan(3_000_000);
    expect(printed === printSchema(full)).toBe(true);
  }, 60_000);

  it('gives reverse fields of one source type one argument list, with the search parameters', () => {
    const fieldOf = (type: string, field: string) => (runtime.getType(type) as GraphQLObjectType).getFields()[field];
    const onPatient = fieldOf('Patient', 'ObservationList');
    const onGroup = fieldOf('Group', 'ObservationList');
    expect(onPatient.args).toBe(onGroup.args);
    expect(onPatient.args.map((a) => a.name)).toEqual(expect.arrayContaining(['_reference', 'code', 'date', '_count']));
    expect(String(onPatient.args.find((a) => a.name === '_reference')?.type)).toBe('Observation_ReferenceParam!');
  });
});

/**
 * Which operations are compiled (`compile-budget.ts`, `compiled-executor.ts`), on the schema the
 * server runs: the bench's nested query is within the budget; a document with three fields of
 * an abstract type (`Reference.resource`, ~150 possible types each) is not; a fragment spread
 * many times weighs each spread without the walk fanning out.
 */
import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';
import { buildGraphSchema } from '../../src/graphql/build-graph-schema.ts';
import { compileWeight } from '../../src/graphql/compile-budget.ts';
import { MAX_COMPILE_WEIGHT } from '../../src/graphql/compiled-executor.ts';

const schema = buildGraphSchema(loadFhirModel());
const resourceTypes = schema.getPossibleTypes(schema.getType('Resource') as never).length;

function weight(query: string): number {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  return compileWeight(schema, operation, fragments);
}

describe('compile weight', () => {
  it('counts each field once, and each field of an abstract type with its possible types', () => {
    expect(resourceTypes).toBeGreaterThan(100);
    expect(weight('{ Patient(_id: "x") { id name { family } } }')).toBe(4);
    const nested = '{ PatientList(_count: 50) { name { family } ObservationList(_reference: subject) { code { text } performer { resource { ... on Practitioner { name { family } } } } } } }';
    expect(weight(nested)).toBe(10 + resourceTypes);
    expect(weight(nested)).toBeLessThanOrEqual(MAX_COMPILE_WEIGHT);
  });

  it('leaves a document with three Reference.resource fields to graphql-js', () => {
    const three = '{ ObservationList { subject { resource { id } } encounter { resource { id } } performer { resource { id } } } }';
    expect(weight(three)).toBe(10 + 3 * resourceTypes);
    expect(weight(three)).toBeGreaterThan(MAX_COMPILE_WEIGHT);
  });

  it('weighs a fragment per spread, with the type of its condition, walking it once', () => {
    const spreads = Array.from({ length: 30 }, (_, i) => `a${i}: PatientList { ...F }`).join(' ');
    expect(weight(`{ ${spreads} } fragment F on Patient { id generalPractitioner { resource { id } } }`)).toBe(30 * (1 + 4 + resourceTypes));
  });
});

/**
 * The cost model of an operation (`measureOperation`), on the schema the server runs, without a
 * server: resources, units and depth for each kind of field, variables and their defaults, and
 * arithmetic that stays finite on hostile documents.
 */
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';
import { buildGraphSchema } from '../../src/graphql/build-graph-schema.ts';
import { measureOperation, type CostLimits } from '../../src/graphql/operation-cost.ts';

const model = loadFhirModel();
/** The schema the server serves: FHIR, Federation and admin fields. */
const schema = buildGraphSchema(model);
const LIMITS: CostLimits = { defaultCount: 20, maxCount: 1000, maxCost: 10_000, maxIncluded: 1000 };

function cost(query: string, variables?: Record<string, unknown>, limits = LIMITS) {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  return measureOperation(schema, document, operation, variables, limits);
}

describe('measureOperation', () => {
  it('costs a search as its _count times what it nests, and a nested list one unit for all its parents', () => {
    expect(cost('{ PatientList(_count: 50) { ObservationList(_reference: subject, _count: 10) { id } } }'))
      .toEqual({ depth: 3, resources: 50 + 50 * 10, units: 1 + 1 });
    expect(cost('{ PatientList(_count: 50) { a: ObservationList(_reference: subject) { id } b: EncounterList(_reference: subject) { subject { resource { id } } } } }'))
      .toEqual({ depth: 5, resources: 50 + 50 * (20 + 20 * 2), units: 1 + 1 + 1 + 1 });
    expect(cost('{ PatientList { id } }')).toEqual({ depth: 2, resources: 20, units: 1 });
    expect(cost('{ PatientList(_count: 5000) { id } }')?.resources).toBe(1000);
  });

  it('costs reads, references, mutations, entities and root fields of their own', () => {
    expect(cost('{ Patient(_id: "1") { generalPractitioner { resource { id } } } }')).toEqual({ depth: 4, resources: 2, units: 2 });
    expect(cost('mutation { a: PatientCreate(res: {}) { id } b: PatientDelete(id: "1") { id } }')).toMatchObject({ resources: 2, units: 2 });
    expect(cost('{ _entities(representations: [{ __typename: "Patient", id: "1" }, { __typename: "Patient", id: "2" }]) { ... on Patient { id } } }'))
      .toMatchObject({ resources: 2, units: 1 });
    expect(cost('{ _entities(representations: [{ __typename: "Patient", id: "1" }, { __typename: "Practitioner", id: "2" }]) { __typename } }'))
      .toMatchObject({ resources: 2, units: 2 });
    expect(cost('{ __typename }')).toMatchObject({ resources: 0, units: 0 });
  });

  it('costs a connection with its includes, its total and the included edges it nests', () => {
    expect(cost('{ PatientConnection(_count: 10, _include: "Patient:organization", _revinclude: ["Observation:subject"]) { edges { resource { id } } } }'))
      .toMatchObject({ resources: 10 + 1000, units: 3 });
    expect(cost('{ PatientConnection(_count: 10, _total: "estimate") { edges { included { ... on Observation { subject { resource { id } } } } } } }'))
      .toMatchObject({ resources: 10 + 10, units: 2 + 1 });
    expect(cost('{ PatientConnection(_count: 0, _include: "Patient:organization") { count } }')).toMatchObject({ resources: 1000, units: 2 });
  });

  it('prices _revinclude and _include=*:* at the configured SEARCH_MAX_INCLUDED, not a built-in 1,000 (review #11)', () => {
    const small = { ...LIMITS, maxIncluded: 50 };
    expect(cost('{ PatientConnection(_count: 10, _revinclude: "Observation:subject") { edges { mode } } }', undefined, small))
      .toMatchObject({ resources: 10 + 50, units: 2 });
    expect(cost('{ PatientConnection(_count: 10, _include: "*") { edges { mode } } }', undefined, small)).toMatchObject({ resources: 10 + 50 });
    const large = { ...LIMITS, maxIncluded: 4000 };
    expect(cost('{ PatientConnection(_count: 10, _revinclude: "Observation:subject") { edges { resource { id } } } }', undefined, large))
      .toMatchObject({ resources: 10 + 4000, units: 2 });
  });

  it('reads _count from the coerced variables, defaults included, and refuses a negative one', () => {
    const query = 'query($n: Int = 7) { PatientList(_count: $n) { id } }';
    expect(cost(query)?.resources).toBe(7);
    expect(cost(query, { n: 3 })?.resources).toBe(3);
    expect(cost(query, { n: null })?.resources).toBe(20);
    expect(cost(query, { n: 'many' })).toBeUndefined(); // execution refuses the variable
    expect(() => cost(query, { n: -5 })).toThrow(/_count must not be negative/);
    expect(cost('query($i: [String]) { PatientConnection(_count: 1, _revinclude: $i) { edges { mode } } }', { i: ['Observation:subject', 'Encounter:subject'] }))
      .toMatchObject({ resources: 1 + 1000, units: 3 });
    // A list returns its matches only, so it neither runs nor pays for includes and totals.
    expect(cost('query($i: [String]) { PatientList(_count: 1, _revinclude: $i, _total: "accurate") { id } }', { i: ['Observation:subject'] }))
      .toMatchObject({ resources: 1, units: 1 });
  });

  it('costs a fragment once however often it is spread, and its every use', () => {
    const fragments = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Patient { ...F${i + 1} ...F${i + 1} }`).join('\n');
    expect(cost(`{ PatientList(_count: 1) { ...F0 } }\n${fragments}\nfragment F30 on Patient { id }`)).toEqual({ depth: 2, resources: 1, units: 1 });
    const used = 'fragment O on Patient { ObservationList(_reference: subject, _count: 2) { id } }';
    expect(cost(`{ a: PatientList(_count: 1) { ...O } b: Patient(_id: "1") { ...O } }\n${used}`)).toMatchObject({ resources: 1 + 2 + 1 + 2, units: 4 });
  });

  it('stays finite where a hostile document multiplies beyond any limit, and a zero count cancels nothing it should not', () => {
    const fragments = Array.from({ length: 60 }, (_, i) => `fragment F${i} on Patient { ObservationList(_reference: subject, _count: 1000) { subject { resource { ...F${i + 1} } } } a${i}: ObservationList(_reference: subject, _count: 1000) { subject { resource { ...F${i + 1} } } } }`).join('\n');
    const huge = cost(`{ PatientList(_count: 1000) { ...F0 } }\n${fragments}\nfragment F60 on Patient { id }`)!;
    expect(Number.isFinite(huge.resources) && huge.resources > 1e12).toBe(true);
    expect(Number.isFinite(huge.units)).toBe(true);
    const zero = cost(`{ PatientList(_count: 0) { ...F0 } }\n${fragments}\nfragment F60 on Patient { id }`)!;
    expect(zero).toMatchObject({ resources: 0, units: 1 });
  });

  it('prices what answers from the schema by its size: __schema 5,000, _service 1,000, __type by the named type (review #3)', () => {
    expect(cost('{ __schema { types { name fields { name } } } }')).toMatchObject({ resources: 5000, units: 1 });
    expect(cost('{ __schema { types { name } } }', undefined, { ...LIMITS, maxCost: 1000 })).toMatchObject({ resources: 1000 });
    expect(cost('{ _service { sdl } __typename }')).toMatchObject({ resources: 1000, units: 1 });
    // One resource per 36 members (fields with their arguments, input fields, enum values): Query ~7,600, Patient ~2,100.
    const query = cost('{ __type(name: "Query") { fields { name args { name } } } }')!;
    expect(query.resources).toBeGreaterThan(150);
    expect(query.resources).toBeLessThan(300);
    const patient = cost('query($t: String!) { __type(name: $t) { fields { name } } }', { t: 'Patient' })!;
    expect(patient.resources).toBeGreaterThan(30);
    expect(patient.resources).toBeLessThan(query.resources);
    expect(cost('{ __type(name: "Boolean") { name } }')).toMatchObject({ resources: 1, units: 1 });
    expect(cost('{ __type(name: "NoSuchType") { name } }')).toMatchObject({ resources: 1, units: 1 });
    expect(cost('{ a: __type(name: "Query") { name } b: __type(name: "Query") { name } }')!.resources).toBe(2 * query.resources);
  });

  it('prices a root field of no other kind (the admin list of clients) as a full page, not as nothing (review #3)', () => {
    expect(cost('{ _clients { client_id } }')).toMatchObject({ resources: 1000, units: 1 });
    expect(cost('{ _clients { client_id } }', undefined, { ...LIMITS, maxCount: 50 })).toMatchObject({ resources: 50, units: 1 });
  });
});

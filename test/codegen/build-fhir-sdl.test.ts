import {
  buildSchema, getNamedType, isInputObjectType, isInterfaceType, isObjectType, Kind, parse, validateSchema,
  type GraphQLField, type GraphQLObjectType, type GraphQLSchema,
} from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildFhirSdl, buildReverseReferenceIndex, collectTypeShapes, INPUT_SUFFIX, listEntityTypes,
} from '../../src/codegen/index.ts';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';

const model = loadFhirModel();
let sdl: string;
let schema: GraphQLSchema;

beforeAll(() => {
  sdl = buildFhirSdl(model);
  schema = buildSchema(sdl);
});

function objectType(name: string): GraphQLObjectType {
  const type = schema.getType(name);
  if (!isObjectType(type)) throw new Error(`${name} is not an object type`);
  return type;
}

function field(typeName: string, fieldName: string): GraphQLField<unknown, unknown> {
  const f = objectType(typeName).getFields()[fieldName];
  if (!f) throw new Error(`${typeName}.${fieldName} is missing`);
  return f;
}

function argNames(f: GraphQLField<unknown, unknown>): string[] {
  return f.args.map((a) => a.name);
}

describe('FHIR GraphQL SDL', () => {
  it('parses, builds and validates with graphql-js', () => {
    expect(validateSchema(schema)).toEqual([]);
  });

  it('is deterministic', () => {
    expect(buildFhirSdl(model) === sdl).toBe(true);
  });

  it('declares every type name once', () => {
    const names = parse(sdl).definitions.flatMap((d) => ('name' in d && d.name ? [d.name.value] : []));
    const dupes = names.filter((n, i) => names.indexOf(n) !== i);
    expect(dupes).toEqual([]);
  });

  it('keeps input names apart from output names by the _Input suffix', () => {
    const types = Object.values(schema.getTypeMap()).filter((t) => !t.name.startsWith('__'));
    for (const t of types) expect(t.name.endsWith(INPUT_SUFFIX), t.name).toBe(isInputObjectType(t));
    // FHIR-derived names never contain "_", so no generated "_" name can meet one.
    for (const shape of collectTypeShapes(model)) expect(shape.name, shape.path).toMatch(/^[A-Z][A-Za-z0-9]*$/);
  });

  it('has an object type per resource type, datatype and backbone element', () => {
    for (const t of listEntityTypes(model)) {
      expect(objectType(t).getInterfaces().map((i) => i.name)).toEqual(['Resource']);
    }
    expect(listEntityTypes(model)).toHaveLength(146);
    for (const name of ['HumanName', 'Quantity', 'Timing', 'TimingRepeat', 'PatientContact', 'ObservationComponent', 'TaskInput', 'BundleEntryRequest']) {
      expect(isObjectType(schema.getType(name)), name).toBe(true);
    }
    expect(isInterfaceType(schema.getType('Resource'))).toBe(true);
    expect(schema.getType('DomainResource')).toBeUndefined();
    expect(schema.getType('BackboneElement')).toBeUndefined();
  });

  it('maps cardinality, primitives and choice types', () => {
    expect(String(field('Patient', 'name').type)).toBe('[HumanName]');
    expect(String(field('Patient', 'birthDate').type)).toBe('Date');
    expect(String(field('Patient', 'active').type)).toBe('Boolean');
    expect(String(field('Patient', 'id').type)).toBe('ID');
    expect(String(field('Patient', 'multipleBirthInteger').type)).toBe('Int');
    expect(String(field('Observation', 'valueQuantity').type)).toBe('Quantity');
    expect(String(field('Observation', 'valueString').type)).toBe('String');
    expect(String(field('Observation', 'effectiveDateTime').type)).toBe('DateTime');
    expect(String(field('Observation', 'issued').type)).toBe('Instant');
    expect(String(field('Quantity', 'value').type)).toBe('Decimal');
    expect(String(field('Observation', 'component').type)).toBe('[ObservationComponent]');
    expect(String(field('Task', 'input').type)).toBe('[TaskInput]');
    expect(String(field('Narrative', 'div').type)).toBe('String');
  });

  it('reuses a backbone type for a content reference', () => {
    expect(String(field('Questionnaire', 'item').type)).toBe('[QuestionnaireItem]');
    expect(String(field('QuestionnaireItem', 'item').type)).toBe('[QuestionnaireItem]');
    expect(schema.getType('QuestionnaireItemItem')).toBeUndefined();
  });

  it('exposes primitive extensions as _<name>, as FHIR JSON does', () => {
    expect(String(field('Patient', '_birthDate').type)).toBe('ElementExt');
    expect(String(field('HumanName', '_given').type)).toBe('[ElementExt]');
    expect(Object.keys(objectType('ElementExt').getFields())).toEqual(['id', 'extension']);
    expect(objectType('Patient').getFields()._id).toBeUndefined();
    expect(objectType('Extension').getFields()._url).toBeUndefined();
  });

  it('resolves references and contained resources through the Resource interface', () => {
    const resource = field('Reference', 'resource');
    expect(String(resource.type)).toBe('Resource');
    expect(resource.args.map((a) => `${a.name}: ${String(a.type)}`)).toEqual(['type: String']);
    expect(String(field('Patient', 'contained').type)).toBe('[Resource]');
    expect(String(field('BundleEntry', 'resource').type)).toBe('Resource');
    expect(String(field('ParametersParameter', 'resource').type)).toBe('Resource');
  });
});

describe('FHIR GraphQL query root', () => {
  it('reads one resource by _id, or by id as Medplum and HAPI write it', () => {
    const read = schema.getQueryType()!.getFields().Patient;
    expect(read.args.map((a) => `${a.name}: ${String(a.type)}`)).toEqual(['_id: ID', 'id: ID']);
    expect(String(read.type)).toBe('Patient');
  });

  it('searches with every supported parameter, dashes mapped to underscores, and result parameters', () => {
    const list = schema.getQueryType()!.getFields().PatientList;
    expect(String(list.type)).toBe('[Patient]');
    expect(argNames(list)).toEqual(expect.arrayContaining(['name', 'general_practitioner', 'birthdate', '_id', '_lastUpdated', '_count', '_offset', '_sort', '_include', '_revinclude', '_total']));
    expect(argNames(list)).not.toContain('_filter');
    expect(String(list.args.find((a) => a.name === '_count')!.type)).toBe('Int');
    expect(String(list.args.find((a) => a.name === 'general_practitioner')!.type)).toBe('String');
  });

  it('pages with connections, cursors and edges', () => {
    const conn = schema.getQueryType()!.getFields().PatientConnection;
    expect(String(conn.type)).toBe('PatientConnection');
    expect(argNames(conn)).toEqual(expect.arrayContaining(['name', '_count', '_cursor']));
    expect(Object.keys(objectType('PatientConnection').getFields())).toEqual(['count', 'offset', 'pagesize', 'first', 'previous', 'next', 'last', 'edges']);
    expect(String(field('PatientConnection', 'edges').type)).toBe('[PatientEdge]');
    expect(Object.entries(objectType('PatientEdge').getFields()).map(([n, f]) => `${n}: ${String(f.type)}`)).toEqual(['mode: String', 'score: Decimal', 'resource: Patient', 'included: Resource']);
  });
});

describe('FHIR GraphQL reverse references', () => {
  it('lists Observations by subject on Patient, with search and result arguments', () => {
    const rev = field('Patient', 'ObservationList');
    expect(String(rev.type)).toBe('[Observation]');
    const ref = rev.args.find((a) => a.name === '_reference')!;
    expect(String(ref.type)).toBe('Observation_ReferenceParam!');
    const values = (getNamedType(ref.type) as import('graphql').GraphQLEnumType).getValues().map((v) => v.name);
    expect(values).toEqual(expect.arrayContaining(['subject', 'patient', 'performer', 'has_member', 'derived_from']));
    expect(argNames(rev)).toEqual(expect.arrayContaining(['code', 'date', '_count', '_offset', '_sort']));
  });

  it('adds a field only where a reference parameter can target the type', () => {
    expect(objectType('Patient').getFields().ObservationList).toBeDefined();
    // No Patient reference parameter can target an Observation.
    expect(objectType('Observation').getFields().PatientList).toBeUndefined();
    let count = 0;
    for (const [target, sources] of buildReverseReferenceIndex(model)) {
      count += sources.length;
      for (const { source } of sources) expect(objectType(target).getFields()[`${source}List`], `${target}.${source}List`).toBeDefined();
    }
    // DECISIONS.md §6: the restricted set is about 5,600 fields (every pair would be 21,316).
    expect(count).toBeGreaterThan(5000);
    expect(count).toBeLessThan(6000);
  });
});

describe('FHIR GraphQL mutations', () => {
  it('creates, updates and deletes every resource type', () => {
    const m = schema.getMutationType()!.getFields();
    expect(Object.keys(m)).toHaveLength(146 * 3);
    expect(m.PatientCreate.args.map((a) => `${a.name}: ${String(a.type)}`)).toEqual(['res: Patient_Input!']);
    expect(String(m.PatientCreate.type)).toBe('Patient');
    expect(m.PatientUpdate.args.map((a) => `${a.name}: ${String(a.type)}`)).toEqual(['id: ID!', 'res: Patient_Input!', 'ifMatch: String']);
    expect(m.PatientDelete.args.map((a) => `${a.name}: ${String(a.type)}`)).toEqual(['id: ID!']);
    expect(String(m.PatientDelete.type)).toBe('Patient');
  });

  it('has input types mirroring the output types, with JSON where a union would be needed', () => {
    const input = (name: string) => {
      const t = schema.getType(name);
      if (!isInputObjectType(t)) throw new Error(`${name} is not an input type`);
      return t.getFields();
    };
    expect(String(input('Patient_Input').name.type)).toBe('[HumanName_Input]');
    expect(String(input('Patient_Input').resourceType.type)).toBe('String');
    expect(String(input('Patient_Input').contained.type)).toBe('[JSON]');
    expect(String(input('Patient_Input')._birthDate.type)).toBe('ElementExt_Input');
    expect(String(input('Task_Input').input.type)).toBe('[TaskInput_Input]');
    expect(String(input('BundleEntry_Input').resource.type)).toBe('JSON');
    expect(String(input('ParametersParameter_Input').resource.type)).toBe('JSON');
    expect(input('Reference_Input').resource).toBeUndefined();
    expect(String(input('Observation_Input').status.type)).toBe('String');
  });
});

describe('FHIR GraphQL subscriptions (CONTRACT.md "Change triggers")', () => {
  it('names the subscription root Change_Subscription, leaving the name Subscription to the FHIR resource type', () => {
    expect(schema.getSubscriptionType()?.name).toBe('Change_Subscription');
    expect(objectType('Subscription').getInterfaces().map((i) => i.name)).toEqual(['Resource']);
  });

  it('offers TChanged(criteria, actions, since) for every resource type, returning its change event', () => {
    const fields = schema.getSubscriptionType()!.getFields();
    expect(Object.keys(fields)).toEqual(listEntityTypes(model).map((type) => `${type}Changed`));
    expect(fields.ObservationChanged.args.map((a) => `${a.name}: ${String(a.type)}`)).toEqual(['criteria: String', 'actions: [Change_Action!]', 'since: String']);
    expect(String(fields.ObservationChanged.type)).toBe('Observation_ChangeEvent!');
    const event = objectType('Observation_ChangeEvent').getFields();
    expect(Object.fromEntries(Object.values(event).map((f) => [f.name, String(f.type)]))).toEqual({
      action: 'Change_Action!', id: 'ID!', versionId: 'ID!', cursor: 'String!', resource: 'Observation',
    });
    const actions = schema.getType('Change_Action');
    expect(actions && 'getValues' in actions && actions.getValues().map((v) => v.name)).toEqual(['CREATE', 'UPDATE', 'DELETE']);
  });

  it('leaves the subscription root and its event types out when asked (the federation SDL)', () => {
    const federated = buildFhirSdl(model, { subscriptions: false });
    expect(federated).not.toMatch(/Change_Subscription|_ChangeEvent|Change_Action/);
    expect(validateSchema(buildSchema(federated))).toEqual([]);
  });
});

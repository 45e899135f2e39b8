/**
 * The FHIR data-flattening directives (https://hl7.org/fhir/R4/graphql.html#flattening): the
 * page's own examples on its example patient, each directive alone and combined, aliases,
 * fragments, nulls and empty lists, the checks made before execution, and end to end through a
 * real server on a Patient created through REST.
 */
import { buildSchema, parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderResultDirectives } from '../../src/codegen/directives.ts';
import { applyResultDirectives, hasResultDirectives, prepareResultDirectives } from '../../src/graphql/result-directives.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

/** The page's example patient, as `{ identifier { system value } active name { use text given family } }` returns it. */
const patient = () => ({
  identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }],
  active: true,
  name: [
    { use: 'official', text: null, given: ['Peter', 'James'], family: 'Chalmers' },
    { use: 'usual', text: null, given: ['Jim'], family: null },
    { use: 'maiden', text: null, given: ['Peter', 'James'], family: 'Windsor' },
  ],
});

/** Applies the directives of a query whose root field `Patient` returned `data`. */
function shape(query: string, data: Record<string, unknown> = patient(), variables: Record<string, unknown> = {}) {
  const result = applyResultDirectives(parse(query), undefined, { Patient: data }, variables);
  return result.Patient;
}

describe('applyResultDirectives: the examples of the FHIR page', () => {
  it('@flatten puts the children of a repeating field in the parent, as lists', () => {
    expect(shape('{ Patient { identifier @flatten { system value } active name @flatten { text given family } } }')).toEqual({
      system: ['urn:oid:1.2.36.146.595.217.0.1'],
      value: ['12345'],
      active: true,
      given: ['Peter', 'James', 'Jim', 'Peter', 'James'],
      family: ['Chalmers', 'Windsor'],
    });
  });

  it('@first takes the first element in its source context, not in the output', () => {
    expect(shape('{ Patient { identifier @flatten { system value } active name @flatten { text given @first family } } }')).toEqual({
      system: ['urn:oid:1.2.36.146.595.217.0.1'],
      value: ['12345'],
      active: true,
      given: ['Peter', 'Jim', 'Peter'],
      family: ['Chalmers', 'Windsor'],
    });
  });

  it('@singleton makes a flattened child one value', () => {
    expect(shape('{ Patient { identifier @flatten { system @singleton value @singleton } active name @flatten @first { text given family @singleton } } }')).toEqual({
      system: 'urn:oid:1.2.36.146.595.217.0.1',
      value: '12345',
      active: true,
      given: ['Peter', 'James'],
      family: 'Chalmers',
    });
  });

  it('@slice(path: "$index") with @flatten suffixes each child with the index', () => {
    const data = { name: patient().name.slice(0, 2) };
    expect(shape('{ Patient { name @slice(path: "$index") @flatten { given @first @singleton family } } }', data)).toEqual({
      'given.0': 'Peter',
      'family.0': ['Chalmers'],
      'given.1': 'Jim',
    });
  });

  it('@slice(path: "use") with @flatten suffixes each child with the value of the path', () => {
    expect(shape('{ Patient { identifier @flatten { system value } active name @flatten @slice(path: "use") { use given family @singleton } } }')).toEqual({
      system: ['urn:oid:1.2.36.146.595.217.0.1'],
      value: ['12345'],
      active: true,
      'use.official': ['official'],
      'given.official': ['Peter', 'James'],
      'family.official': 'Chalmers',
      'use.usual': ['usual'],
      'given.usual': ['Jim'],
      'use.maiden': ['maiden'],
      'given.maiden': ['Peter', 'James'],
      'family.maiden': 'Windsor',
    });
  });

  it('@slice(path: "$index") with @flatten and a list child', () => {
    expect(shape('{ Patient { name @flatten @slice(path: "$index") { given family @singleton } } }')).toEqual({
      'given.0': ['Peter', 'James'], 'family.0': 'Chalmers', 'given.1': ['Jim'], 'given.2': ['Peter', 'James'], 'family.2': 'Windsor',
    });
  });
});

describe('applyResultDirectives: each directive', () => {
  it('@first on a list returns its first element as an object, or null when empty or null', () => {
    expect(shape('{ Patient { name @first { family } } }', { name: [{ family: 'Chalmers' }, { family: null }] })).toEqual({ name: { family: 'Chalmers' } });
    expect(shape('{ Patient { name @first { family } } }', { name: [] })).toEqual({ name: null });
    expect(shape('{ Patient { name @first { family } } }', { name: null })).toEqual({ name: null });
    expect(shape('{ Patient { given: name @first { family } } }', { given: [{ family: 'X' }] })).toEqual({ given: { family: 'X' } });
  });

  it('@slice without @flatten splits a list into lists named <field>.<value>, singletons with @singleton', () => {
    const data = { name: [{ use: 'official', family: 'Chalmers' }, { use: 'usual', family: 'Jim' }, { use: 'official', family: 'Other' }] };
    expect(shape('{ Patient { name @slice(path: "use") { use family } } }', data)).toEqual({
      'name.official': [{ use: 'official', family: 'Chalmers' }, { use: 'official', family: 'Other' }],
      'name.usual': [{ use: 'usual', family: 'Jim' }],
    });
    expect(shape('{ Patient { name @slice(path: "$index") @singleton { family } } }', data)).toEqual({
      'name.0': { family: 'Chalmers' }, 'name.1': { family: 'Jim' }, 'name.2': { family: 'Other' },
    });
  });

  it('reads the @slice path from its hidden selection and leaves it out of the output', () => {
    const data = { name: [{ family: 'Chalmers', __slice_use: 'official' }, { family: 'Jim', __slice_use: 'usual' }] };
    expect(shape('{ Patient { name @slice(path: "use") { family __slice_use: use } } }', data)).toEqual({
      'name.official': [{ family: 'Chalmers' }], 'name.usual': [{ family: 'Jim' }],
    });
  });

  it('follows a dotted @slice path, through lists', () => {
    const data = { identifier: [{ value: '1', type: { coding: [{ code: 'MR' }] } }, { value: '2', type: null }] };
    expect(shape('{ Patient { identifier @flatten @slice(path: "type.coding.code") { value @singleton type { coding { code } } } } }', data)).toMatchObject({
      'value.MR': '1', 'value.': '2',
    });
  });

  it('@flatten on a single field keeps the cardinality of its children', () => {
    const data = { maritalStatus: { text: 'Married', coding: [{ code: 'M' }] } };
    expect(shape('{ Patient { maritalStatus @flatten { text coding { code } } } }', data)).toEqual({ text: 'Married', coding: [{ code: 'M' }] });
  });

  it('nested @flatten inside a flattened list makes everything collated a list', () => {
    const data = { contact: [{ name: { family: 'A', given: ['a1'] } }, { name: { family: 'B', given: ['b1', 'b2'] } }, { name: null }] };
    expect(shape('{ Patient { contact @flatten { name @flatten { family given } } } }', data)).toEqual({ family: ['A', 'B'], given: ['a1', 'b1', 'b2'] });
  });

  it('nested slices accumulate their suffixes', () => {
    const data = { contact: [{ relationship: 'N', telecom: [{ use: 'home', value: '1' }, { use: 'work', value: '2' }] }] };
    expect(shape('{ Patient { contact @flatten @slice(path: "relationship") { telecom @flatten @slice(path: "use") { value @singleton } } } }', data)).toEqual({
      'value.N.home': '1', 'value.N.work': '2',
    });
  });

  it('leaves out flattened children without values, and a flattened field that is null or empty', () => {
    expect(shape('{ Patient { active name @flatten { text } identifier @flatten { value } } }', { active: false, name: [{ text: null }], identifier: null })).toEqual({ active: false });
    expect(shape('{ Patient { name @flatten { given } } }', { name: [] })).toEqual({});
  });

  it('keeps nulls and empty lists of fields without directives', () => {
    expect(shape('{ Patient { active name @first { family } telecom { value } } }', { active: null, name: [], telecom: [] })).toEqual({ active: null, name: null, telecom: [] });
  });

  it('keeps objects under flattening intact, rebuilt from their own selection', () => {
    const data = { name: [{ period: { start: '2000' } }, { period: { start: '2010' } }] };
    expect(shape('{ Patient { name @flatten { period { start } } } }', data)).toEqual({ period: [{ start: '2000' }, { start: '2010' }] });
  });

  it('answers an error when a @singleton collates more than one value', () => {
    expect(() => shape('{ Patient { name @flatten { family @singleton } } }')).toThrow(/"family" is marked @singleton but has 2 values/);
    try {
      shape('{ Patient { name @flatten { family @singleton } } }');
    } catch (err) {
      expect((err as { extensions: Record<string, unknown> }).extensions.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('applyResultDirectives: documents', () => {
  it('returns the data untouched when the document uses no directive', () => {
    const data = { Patient: patient() };
    expect(applyResultDirectives(parse('{ Patient { name { family } } }'), undefined, data)).toBe(data);
    expect(hasResultDirectives(parse('{ Patient { name @include(if: true) { family } } }'))).toBe(false);
  });

  it('follows named and inline fragments, and keeps aliases', () => {
    const query = `{ Patient { ...P } }
      fragment P on Patient { ... on Patient { names: name @flatten { ...N } } first: name @first { family } }
      fragment N on HumanName { family }`;
    const data = { names: [{ family: 'Chalmers' }, { family: 'Windsor' }], first: [{ family: 'Chalmers' }, { family: 'Windsor' }] };
    expect(shape(query, data)).toEqual({ family: ['Chalmers', 'Windsor'], first: { family: 'Chalmers' } });
  });

  it('merges the selections of one response key given twice', () => {
    const data = { name: [{ family: 'Chalmers', given: ['Peter'] }, { family: 'Windsor', given: [] }] };
    expect(shape('{ Patient { name @flatten { family } name { given } } }', data)).toEqual({ family: ['Chalmers', 'Windsor'], given: ['Peter'] });
  });

  it('skips fields that @skip or a type condition left out of the data', () => {
    expect(shape('{ Patient { active @skip(if: true) name @first { family } } }', { name: [{ family: 'X' }] })).toEqual({ name: { family: 'X' } });
  });

  it('applies the named operation, and reshapes root fields too', () => {
    const document = parse('query A { Patient { name @first { family } } } query B { PatientList @first { id } }');
    expect(applyResultDirectives(document, 'B', { PatientList: [{ id: '1' }, { id: '2' }] })).toEqual({ PatientList: { id: '1' } });
    expect(applyResultDirectives(document, 'A', { Patient: { name: [{ family: 'X' }] } })).toEqual({ Patient: { name: { family: 'X' } } });
  });

  it('takes a @slice path from a variable', () => {
    const data = { name: [{ use: 'official', family: 'X' }] };
    expect(shape('query Q($p: String) { Patient { name @slice(path: $p) { family } } }', data, { p: 'use' })).toEqual({ 'name.official': [{ family: 'X' }] });
  });
});

describe('prepareResultDirectives: the checks before execution', () => {
  const schema = buildSchema(`${renderResultDirectives()}
    type Query { Patient: Patient PatientList: [Patient] }
    type Patient { id: ID active: Boolean name: [HumanName] maritalStatus: CodeableConcept identifier: [Identifier] }
    type HumanName { use: String family: String given: [String] period: Period }
    type Period { start: String }
    type CodeableConcept { text: String coding: [Coding] }
    type Coding { code: String }
    type Identifier { value: String type: CodeableConcept }`);
  const prepare = (query: string) => prepareResultDirectives(schema, parse(query));
  const refusal = (query: string) => {
    try {
      prepare(query);
    } catch (err) {
      const error = err as { message: string; extensions: Record<string, unknown> };
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      return error.message;
    }
    throw new Error('expected a refusal');
  };

  it('selects a @slice path under a hidden alias, nested for a dotted path', () => {
    expect(print(prepare('{ Patient { name @slice(path: "use") { family } } }'))).toContain('__slice_use: use');
    expect(print(prepare('{ Patient { identifier @flatten @slice(path: "type.coding.code") { value } } }'))).toMatch(/__slice_type_coding_code: type \{\s*coding \{\s*code\s*\}\s*\}/);
    const document = parse('{ Patient { name @first { family } } }');
    expect(prepareResultDirectives(schema, document)).toBe(document);
  });

  it('refuses @first and @slice on a field that is not a list', () => {
    expect(refusal('{ Patient { maritalStatus @first { text } } }')).toMatch(/@first applies to a list field; "maritalStatus"/);
    expect(refusal('{ Patient { maritalStatus @slice(path: "text") { text } } }')).toMatch(/@slice applies to a list field/);
  });

  it('refuses @slice without a path, with an unknown path, or with @first', () => {
    expect(refusal('{ Patient { name @slice { family } } }')).toMatch(/@slice needs a path/);
    expect(refusal('{ Patient { name @slice(path: "nope") { family } } }')).toMatch(/HumanName has no element "nope"/);
    expect(refusal('{ Patient { name @slice(path: "period") { family } } }')).toMatch(/must end at a primitive element/);
    expect(refusal('{ Patient { name @slice(path: "use.where(x)") { family } } }')).toMatch(/is not supported/);
    expect(refusal('{ Patient { name @first @slice(path: "use") { family } } }')).toMatch(/cannot be combined/);
  });

  it('refuses @flatten on a leaf and flattened children of different types under one name', () => {
    expect(refusal('{ Patient { active @flatten } }')).toMatch(/@flatten applies to a field with a selection set/);
    expect(refusal('{ Patient { name @flatten { text: period { start } } maritalStatus @flatten { text } } }')).toMatch(/collates "text" of types Period and String/);
    expect(prepare('{ Patient { name @flatten { family } identifier @flatten { family: value } } }')).toBeDefined();
  });
});

describe('end to end through the server', () => {
  let t: TestServer;
  let id: string;
  const gql = (query: string, path = '/graphql') =>
    fhirFetch(`${t.url}${path}`, { method: 'POST', body: JSON.stringify({ query }), headers: { 'content-type': 'application/json' } });

  beforeAll(async () => {
    t = await startTestServer();
    const created = await fhirFetch(`${t.url}/fhir/Patient`, {
      method: 'POST',
      body: { resourceType: 'Patient', active: true, name: [{ use: 'official', family: 'Chalmers', given: ['Peter', 'James'] }, { use: 'usual', family: 'Jim', given: ['Jim'] }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    id = created.body.id;
  }, 60_000);
  afterAll(async () => { await t?.close(); });

  it('answers name @first with the first name as an object', async () => {
    const res = await gql(`{ Patient(_id: "${id}") { name @first { family } } }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ Patient: { name: { family: 'Chalmers' } } });
  });

  it('answers name @slice(path: "use") with one list per use, without selecting use', async () => {
    const res = await gql(`{ Patient(_id: "${id}") { name @slice(path: "use") { family } } }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.Patient).toEqual({ 'name.official': [{ family: 'Chalmers' }], 'name.usual': [{ family: 'Jim' }] });
  });

  it('answers @flatten with the children in the parent, sliced and singled on request', async () => {
    const res = await gql(`{ Patient(_id: "${id}") { id active name @flatten { given family } } }`);
    expect(res.body.data.Patient).toEqual({ id, active: true, given: ['Peter', 'James', 'Jim'], family: ['Chalmers', 'Jim'] });
    const sliced = await gql(`{ Patient(_id: "${id}") { name @flatten @slice(path: "use") { given @first @singleton family @singleton } } }`);
    expect(sliced.body.data.Patient).toEqual({ 'given.official': 'Peter', 'family.official': 'Chalmers', 'given.usual': 'Jim', 'family.usual': 'Jim' });
  });

  it('applies the directives on /fhir/{type}/{id}/$graphql, rooted at the resource', async () => {
    const res = await gql('{ name @first { family } }', `/fhir/Patient/${id}/$graphql`);
    expect(res.body.data).toEqual({ name: { family: 'Chalmers' } });
  });

  it('refuses misuse with BAD_USER_INPUT', async () => {
    const notList = await gql(`{ Patient(_id: "${id}") { active @first } }`);
    expect(notList.status).toBe(400);
    expect(notList.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const noPath = await gql(`{ Patient(_id: "${id}") { name @slice { family } } }`);
    expect(noPath.body.errors[0]).toMatchObject({ message: expect.stringMatching(/@slice needs a path/), extensions: { code: 'BAD_USER_INPUT' } });
    const two = await gql(`{ Patient(_id: "${id}") { name @flatten { family @singleton } } }`);
    expect(two.body.data).toBeNull();
    expect(two.body.errors[0]).toMatchObject({ message: expect.stringMatching(/@singleton but has 2 values/), extensions: { code: 'BAD_USER_INPUT' } });
  });
});

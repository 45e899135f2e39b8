import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FhirError } from '../../src/fhir/outcomes.ts';
import { examplesPackageDir } from '../../src/fhir/model-sources.ts';
import { OPERATION_DEFINITIONS_PATH, officialDefinitions, stringifyOfficialDefinitions } from '../../src/operations/official-definitions.ts';
import { parseOperationParams, type OperationParam } from '../../src/operations/operation-parameters.ts';
import { operationRegistry } from '../../src/operations/registry.ts';
import { operationRoutes } from '../../src/operations/operation-routes.ts';

/** The types a declared parameter may have for an official parameter's type. */
const COMPATIBLE: Record<string, string[]> = {
  string: ['string', 'code', 'uri', 'canonical', 'id', 'instant', 'dateTime', 'date'],
  Resource: ['resource'],
  ValueSet: ['resource'],
  Coding: ['Coding'],
  Reference: ['Reference'],
};

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(400);
    return (err as FhirError).outcome.issue[0].diagnostics ?? '';
  }
  throw new Error('expected a 400');
}

describe('the official OperationDefinitions', () => {
  it('are up to date with the definitions package (run `npm run codegen` when this fails)', () => {
    const dir = examplesPackageDir();
    const definitions = readdirSync(dir).filter((n) => n.startsWith('OperationDefinition-'))
      .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as Record<string, unknown>);
    expect(readFileSync(OPERATION_DEFINITIONS_PATH, 'utf8')).toBe(stringifyOfficialDefinitions(definitions));
    expect(officialDefinitions().get('http://hl7.org/fhir/OperationDefinition/Patient-everything')?.code).toBe('everything');
  });
});

describe('the registry', () => {
  const operations = operationRegistry({});

  it('implements each official operation as its definition describes it', () => {
    for (const op of operations.filter((o) => o.definition.startsWith('http://hl7.org/fhir/OperationDefinition/'))) {
      const official = officialDefinitions().get(op.definition);
      expect(official, op.definition).toBeDefined();
      expect(official!.code).toBe(op.name);
      for (const level of op.levels) expect(official![level], `${op.name} at ${level} level`).toBe(true);
      const officialTypes = official!.resource ?? [];
      if (!officialTypes.includes('Resource')) expect(officialTypes).toEqual(expect.arrayContaining([...(op.resourceTypes ?? ['(every type)'])]));
      if (official!.affectsState) expect(op.methods).not.toContain('GET');
      // fhirgraph's own parameters (a paging cursor) must not shadow an official one.
      for (const param of op.parameters.filter((p) => p.own)) expect(official!.parameter?.find((p) => p.name === param.name), `${op.name}(${param.name})`).toBeUndefined();
      for (const param of op.parameters.filter((p) => !p.own)) {
        const match = official!.parameter?.find((p) => p.name === param.name && p.use === 'in');
        expect(match, `${op.name}(${param.name})`).toBeDefined();
        const allowed = COMPATIBLE[match!.type ?? ''] ?? [match!.type];
        expect(allowed, `${op.name}(${param.name}: ${match!.type})`).toContain(param.type);
        if (match!.max === '1') expect(param.max ?? 1).toBe(1);
      }
    }
  });

  it('gives each operation a route per level, type and method, with the capability the CapabilityStatement lists', () => {
    const routes = operationRoutes(operations);
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(expect.arrayContaining(['POST /fhir/:type/$validate', 'POST /fhir/:type/:id/$validate']));
    const validate = routes.find((r) => r.url === '/fhir/:type/$validate')!;
    expect(validate.capabilities).toEqual([expect.objectContaining({ level: 'operation', name: 'validate', scope: 'type', permissions: ['c', 'u'] })]);
  });
});

describe('operation parameters', () => {
  const declared: OperationParam[] = [
    { name: 'url', type: 'uri' },
    { name: 'count', type: 'integer' },
    { name: '_type', type: 'code', max: '*' },
    { name: 'start', type: 'date' },
    { name: 'activeOnly', type: 'boolean' },
    { name: 'coding', type: 'Coding' },
    { name: 'valueSet', type: 'resource' },
    { name: 'code', type: 'code', min: 1 },
  ];

  it('reads the query string as the declared types', () => {
    const params = parseOperationParams(declared, {
      code: 'x', url: 'http://example.org/vs', count: '20', _type: ['Patient', 'Observation'], start: '2024-02-29', activeOnly: 'true', coding: 'http://loinc.org|8867-4', _format: 'json',
    }, undefined);
    expect(params.string('url')).toBe('http://example.org/vs');
    expect(params.integer('count')).toBe(20);
    expect(params.strings('_type')).toEqual(['Patient', 'Observation']);
    expect(params.boolean('activeOnly')).toBe(true);
    expect(params.object('coding')).toEqual({ system: 'http://loinc.org', code: '8867-4' });
    expect(params.has('valueSet')).toBe(false);
  });

  it('reads a Parameters body, value[x] by type, and resources', () => {
    const params = parseOperationParams(declared, {}, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'code', valueCode: 'x' },
        { name: 'count', valueInteger: 5 },
        { name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'active' } },
        { name: 'coding', valueCoding: { system: 'http://loinc.org', code: '1' } },
      ],
    });
    expect(params.integer('count')).toBe(5);
    expect(params.object('valueSet')).toEqual({ resourceType: 'ValueSet', status: 'active' });
    expect(params.object('coding')).toEqual({ system: 'http://loinc.org', code: '1' });
  });

  it('refuses unknown names, wrong types and counts outside the cardinality with 400 naming the parameter', () => {
    expect(refusal(() => parseOperationParams(declared, { code: 'x', nope: '1' }, undefined))).toContain('Unknown parameter "nope"');
    expect(refusal(() => parseOperationParams(declared, { code: 'x', count: 'ten' }, undefined))).toContain('"count"');
    expect(refusal(() => parseOperationParams(declared, { code: 'x', count: '99999999999' }, undefined))).toContain('"count"');
    expect(refusal(() => parseOperationParams(declared, { code: 'x', start: '2023-02-29' }, undefined))).toContain('"start"');
    expect(refusal(() => parseOperationParams(declared, { code: 'x', activeOnly: 'yes' }, undefined))).toContain('"activeOnly"');
    expect(refusal(() => parseOperationParams(declared, { code: 'x', url: ['a', 'b'] }, undefined))).toContain('may be given once');
    expect(refusal(() => parseOperationParams(declared, {}, undefined))).toContain('"code" is required');
    expect(refusal(() => parseOperationParams(declared, { code: 'x', valueSet: '{}' }, undefined))).toContain('Parameters body');
    expect(refusal(() => parseOperationParams(declared, {}, { resourceType: 'Patient' }))).toContain('Parameters resource');
    expect(refusal(() => parseOperationParams(declared, {}, { resourceType: 'Parameters', parameter: [{ name: 'code', valueInteger: 1 }] }))).toContain('"code"');
    expect(refusal(() => parseOperationParams(declared, {}, { resourceType: 'Parameters', parameter: [{ valueCode: 'x' }] }))).toContain('needs a name');
  });
});

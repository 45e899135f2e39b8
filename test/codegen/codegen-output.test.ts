import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildASTSchema, isObjectType, isScalarType, parse, print, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_HEADER } from '../../codegen.ts';
import { buildFhirSdl, pruneSchemaForResolvers } from '../../src/codegen/index.ts';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESOLVER_TYPES = join(ROOT, 'src/graphql/generated/resolver-types.ts');

/** The CLI's own entry point, as `npm run codegen` runs it. */
function codegenBin(): string {
  const require = createRequire(import.meta.url);
  const pkg = require('@graphql-codegen/cli/package.json') as { bin: Record<string, string> };
  return join(dirname(require.resolve('@graphql-codegen/cli/package.json')), pkg.bin['graphql-codegen']);
}

describe('codegen.ts', () => {
  it('writes nothing new: the committed schema and resolver types are up to date (run `npm run codegen` when this fails)', async () => {
    // `--check` generates every output in memory and exits 1, naming the stale files, when one
    // differs from the committed file.
    const run = promisify(execFile)(process.execPath, [codegenBin(), '--config', 'codegen.ts', '--check'], { cwd: ROOT });
    const result = await run.then(() => 'up to date', (err: { stdout?: string; stderr?: string }) => {
      const output = `${err.stdout ?? ''}${err.stderr ?? ''}`;
      return output.slice(Math.max(0, output.indexOf('The following stale files')));
    });
    expect(result).toBe('up to date');
  }, 120_000);

  it('marks the resolver types as generated', () => {
    expect(readFileSync(RESOLVER_TYPES, 'utf8').startsWith(`// ${GENERATED_HEADER}\n`)).toBe(true);
  });
});

describe('pruneSchemaForResolvers', () => {
  const model = loadFhirModel();
  let full: GraphQLSchema;
  let seams: GraphQLSchema;

  beforeAll(() => {
    const document = parse(buildFhirSdl(model), { noLocation: true });
    full = buildASTSchema(document, { assumeValidSDL: true });
    seams = buildASTSchema(pruneSchemaForResolvers(document, model));
  });

  it('keeps every query and mutation field with its arguments', () => {
    for (const [before, after] of [[full.getQueryType()!, seams.getQueryType()!], [full.getMutationType()!, seams.getMutationType()!]]) {
      const expected = Object.values(before.getFields());
      const kept = after.getFields();
      expect(Object.keys(kept)).toEqual(expected.map((f) => f.name));
      for (const field of expected) expect(kept[field.name].args.map((a) => `${a.name}: ${String(a.type)}`)).toEqual(field.args.map((a) => `${a.name}: ${String(a.type)}`));
    }
  });

  it('turns mutation inputs into opaque scalars and leaves datatypes and backbone elements out', () => {
    expect(isScalarType(seams.getType('Patient_Input'))).toBe(true);
    expect(seams.getType('HumanName')).toBeUndefined();
    expect(seams.getType('PatientContact')).toBeUndefined();
    const patient = seams.getType('Patient');
    expect(isObjectType(patient) && Object.keys(patient.getFields()).sort()).toEqual(['id', 'implicitRules', 'language', 'resourceType']);
    expect(print(pruneSchemaForResolvers(parse('type Query { a: Int }'), model))).toBe('type Query {\n  a: Int\n}');
  });

  it('keeps the FHIR resource type Subscription an ordinary object type, not the subscription root', () => {
    expect(seams.getSubscriptionType()?.name).toBe('Change_Subscription');
    expect(isObjectType(seams.getType('Subscription'))).toBe(true);
    expect(Object.keys(seams.getSubscriptionType()!.getFields())).toEqual(model.resourceTypes.map((type) => `${type}Changed`));
  });

  it('keeps every change event type whole, for typed subscription resolvers', () => {
    const event = seams.getType('Observation_ChangeEvent');
    expect(isObjectType(event) && Object.keys(event.getFields()).sort()).toEqual(['action', 'cursor', 'id', 'resource', 'versionId']);
    expect(String(seams.getSubscriptionType()!.getFields().ObservationChanged.args.map((a) => `${a.name}: ${String(a.type)}`)))
      .toBe('criteria: String,actions: [Change_Action!],since: String');
  });
});

/**
 * The examples corpus (DECISIONS §4): every `<Type>-<id>.json` at the root of
 * `hl7.fhir.r4.examples@4.0.1` whose resourceType is not a conformance/definition type, plus the
 * non-definition entries of its `collection` Bundles. Parsed with `lossless-json` so decimals keep
 * their exact text. https://hl7.org/fhir/R4/downloads.html
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from 'lossless-json';

/** Conformance/definition resource types left out of the corpus. */
export const DEFINITION_TYPES: ReadonlySet<string> = new Set([
  'StructureDefinition', 'ValueSet', 'CodeSystem', 'SearchParameter', 'CapabilityStatement',
  'OperationDefinition', 'ConceptMap', 'ImplementationGuide', 'NamingSystem', 'CompartmentDefinition',
  'StructureMap', 'GraphDefinition', 'MessageDefinition', 'ExampleScenario', 'TerminologyCapabilities',
]);

/** One corpus item: `name` is the file, or `file#entry[i]` for a collection Bundle entry. */
export interface ExampleResource {
  name: string;
  file: string;
  entry?: number;
  resource: Record<string, unknown>;
}

const RESOURCE_TYPE = /^\s*\{\s*"resourceType"\s*:\s*"([A-Za-z]+)"/;
const EXAMPLE_FILE = /^[A-Z][A-Za-z]+-.+\.json$/;

/** Directory of the installed examples package. */
export function examplesDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
}

let cache: ExampleResource[] | undefined;

/** Lists (and caches) every corpus item, in file-name order, entries after their Bundle. */
export function listExampleResources(): ExampleResource[] {
  if (cache) return cache;
  const dir = examplesDir();
  const out: ExampleResource[] = [];
  for (const file of readdirSync(dir).filter((f) => EXAMPLE_FILE.test(f)).sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    // Skip definitions before the (slow) lossless parse: resourceType comes first in these files.
    const peeked = RESOURCE_TYPE.exec(text.slice(0, 400))?.[1];
    if (peeked && DEFINITION_TYPES.has(peeked)) continue;
    const resource = parse(text) as Record<string, unknown>;
    const rt = resource.resourceType as string;
    if (DEFINITION_TYPES.has(rt)) continue;
    out.push({ name: file, file, resource });
    if (rt !== 'Bundle' || resource.type !== 'collection') continue;
    const entries = (resource.entry ?? []) as { resource?: Record<string, unknown> }[];
    entries.forEach((e, i) => {
      if (e.resource && !DEFINITION_TYPES.has(e.resource.resourceType as string)) {
        out.push({ name: `${file}#entry[${i}]`, file, entry: i, resource: e.resource });
      }
    });
  }
  cache = out;
  return out;
}

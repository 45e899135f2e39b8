/**
 * The OperationDefinitions of FHIR R4, as `npm run codegen` copies them from the official
 * definitions package (`hl7.fhir.r4.examples@4.0.1`, a dev dependency) into
 * `generated/operation-definitions.json` (committed, narrative dropped), so the server reads them
 * at run time without the package: a registry entry that names an official definition is checked
 * against it (test/operations/operation-registry.test.ts).
 * https://hl7.org/fhir/R4/operationslist.html
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the generated definitions live. */
export const OPERATION_DEFINITIONS_PATH = fileURLToPath(new URL('./generated/operation-definitions.json', import.meta.url));

/** An OperationDefinition parameter, as much of it as the server reads. */
export interface OfficialParameter {
  name: string;
  use: 'in' | 'out';
  min: number;
  max: string;
  type?: string;
}

/** An OperationDefinition, as much of it as the server reads. */
export interface OfficialDefinition {
  resourceType: 'OperationDefinition';
  id: string;
  url: string;
  code: string;
  system: boolean;
  type: boolean;
  instance: boolean;
  resource?: string[];
  affectsState?: boolean;
  parameter?: OfficialParameter[];
}

/** Builds the generated file's text from the package's `OperationDefinition-*.json` resources. */
export function stringifyOfficialDefinitions(definitions: Record<string, unknown>[]): string {
  const kept = definitions
    .filter((d) => d.resourceType === 'OperationDefinition' && typeof d.url === 'string' && d.id !== 'example')
    .map(({ text: _text, ...rest }) => rest)
    .sort((a, b) => String(a.url).localeCompare(String(b.url)));
  return `${JSON.stringify(kept, null, 1)}\n`;
}

let loaded: Map<string, OfficialDefinition> | undefined;

/** The official OperationDefinitions by canonical URL (read once). */
export function officialDefinitions(): ReadonlyMap<string, OfficialDefinition> {
  loaded ??= new Map((JSON.parse(readFileSync(OPERATION_DEFINITIONS_PATH, 'utf8')) as OfficialDefinition[]).map((d) => [d.url, d]));
  return loaded;
}

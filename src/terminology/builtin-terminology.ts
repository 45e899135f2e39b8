/**
 * The built-in CodeSystems and ValueSets of FHIR R4 (generated/, written by `npm run codegen` from
 * the definitions package, committed: the package is a dev dependency and not in the image).
 * Read once, asynchronously, on first use; later calls share the result. The files hold one
 * resource per line, parsed in time slices so the first request does not hold the event loop
 * for the whole 5.5 MB (src/fhir/time-slice.ts).
 * https://hl7.org/fhir/R4/terminologies-systems.html  https://hl7.org/fhir/R4/terminologies-valuesets.html
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { TimeSlice } from '../fhir/time-slice.ts';
import { createPackageSource, type RawResource } from './package-source.ts';
import type { TerminologySource } from './terminology-types.ts';

/** Where the generated files live. */
export const BUILTIN_CODE_SYSTEMS_PATH = fileURLToPath(new URL('./generated/code-systems.json', import.meta.url));
export const BUILTIN_VALUE_SETS_PATH = fileURLToPath(new URL('./generated/value-sets.json', import.meta.url));

let loading: Promise<TerminologySource> | undefined;

/** Parses a generated file (`[`, one resource per line each but the last ending in `,`, `]`) in slices. */
async function parseLines(text: string, slice: TimeSlice): Promise<RawResource[]> {
  const out: RawResource[] = [];
  for (const line of text.split('\n')) {
    if (line === '[' || line === ']' || line === '') continue;
    out.push(JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line) as RawResource);
    await slice.yieldIfDue();
  }
  return out;
}

async function load(): Promise<TerminologySource> {
  const [codeSystems, valueSets] = await Promise.all([readFile(BUILTIN_CODE_SYSTEMS_PATH, 'utf8'), readFile(BUILTIN_VALUE_SETS_PATH, 'utf8')]);
  const slice = new TimeSlice();
  return createPackageSource([...await parseLines(codeSystems, slice), ...await parseLines(valueSets, slice)]);
}

/** The built-in terminology (read on the first call; a failed read is retried on the next). */
export function loadBuiltinTerminology(): Promise<TerminologySource> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/**
 * `ValueSet/$validate-code`'s verdict: whether a coding (or any coding of a CodeableConcept) is
 * in a value set's expansion, with the display the value set gives it. A code in the set with a
 * display that is neither its display nor one of its designations is not valid (the spec's
 * `result` is "true if the concept details supplied are valid", and the display is one of them);
 * the message names the expected display. An abstract code is valid only when `abstract` allows it.
 * https://hl7.org/fhir/R4/valueset-operation-validate-code.html
 */
import type { ExpansionEntry } from './terminology-types.ts';

/** A coding to check (from `code`+`system`+`display`, `coding`, or a `codeableConcept`). */
export interface CodingToCheck {
  system?: string;
  version?: string;
  code?: string;
  display?: string;
}

/** The verdict. */
export interface CodeVerdict {
  result: boolean;
  message?: string;
  display?: string;
}

function describe(c: CodingToCheck): string {
  return `${c.system ?? '(no system)'}#${c.code ?? '(no code)'}`;
}

function checkOne(c: CodingToCheck, byKey: ReadonlyMap<string, ExpansionEntry>, label: string, abstractAllowed: boolean): CodeVerdict {
  const entry = c.system !== undefined && c.code !== undefined ? byKey.get(`${c.system}\u0000${c.code}`) : undefined;
  if (!entry || (c.version !== undefined && entry.version !== undefined && entry.version !== c.version)) {
    return { result: false, message: `The code ${describe(c)}${c.version ? ` (version ${c.version})` : ''} is not in the value set ${label}` };
  }
  const display = entry.display;
  if (entry.abstract && !abstractAllowed) {
    return { result: false, message: `The code ${describe(c)} is abstract: not for use in a coding here`, ...(display ? { display } : {}) };
  }
  const valid = [display, ...(entry.designation ?? []).map((d) => d.value)].filter((d): d is string => d !== undefined);
  if (c.display !== undefined && display !== undefined && !valid.includes(c.display)) {
    return { result: false, message: `The display "${c.display}" is not a display of ${describe(c)}: expected "${display}"`, display };
  }
  const verdict: CodeVerdict = { result: true };
  if (display !== undefined) verdict.display = display;
  if (entry.inactive) verdict.message = `The code ${describe(c)} is inactive`;
  return verdict;
}

/**
 * Checks `codings` (one coding, or the codings of a CodeableConcept: valid when any is) against
 * the expansion `entries` of the value set `label`.
 */
export function checkCodings(codings: readonly CodingToCheck[], entries: readonly ExpansionEntry[], label: string, abstractAllowed = false): CodeVerdict {
  const byKey = new Map(entries.map((e) => [`${e.system}\u0000${e.code}`, e]));
  const verdicts = codings.map((c) => checkOne(c, byKey, label, abstractAllowed));
  const valid = verdicts.find((v) => v.result);
  if (valid) return valid;
  if (verdicts.length === 1) return verdicts[0];
  return { result: false, message: `None of the codings is valid in ${label}: ${verdicts.map((v) => v.message).join('; ')}` };
}

/**
 * Checks coded values against required bindings: a `code` (or `string`/`uri`) must be in the
 * value set; a `Coding`/`Quantity` code must be when its system is one of the set's systems; a
 * `CodeableConcept` with codings must have at least one coding from the set. Sets the package
 * cannot expand are checked by shape only (DECISIONS §4).
 * https://hl7.org/fhir/R4/terminologies.html#required
 */
import type { ValueSetDef, ValueSetFormat } from './model-types.ts';

/** A value set compiled for fast membership tests. */
export interface CompiledValueSet {
  url: string;
  /** Codes per system (empty for format-only sets). */
  systems: ReadonlyMap<string, ReadonlySet<string>>;
  /** Codes of every system together, for bare `code` elements. */
  all: ReadonlySet<string>;
  /** For format-only sets: the shape check and the system it applies to. */
  format?: { test: (code: string) => boolean; system?: string };
}

/** `type/subtype` (RFC 6838 names), then optional `;` parameters, taken as free text. */
const MIME = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?$/;
const CURRENCY = /^[A-Z]{3}$/;
const UCUM_CHARS = /^[\x21-\x7e]+$/;
const LOINC_ANSWER = /^LA[0-9]{1,8}-[0-9]$/;

/** A permissive UCUM syntax check: printable ASCII, balanced `()`, `[]` and `{}`. */
function isUcumShaped(code: string): boolean {
  if (!UCUM_CHARS.test(code)) return false;
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const c of code) {
    if (c === '(' || c === '[' || c === '{') stack.push(c);
    else if (pairs[c] && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0;
}

/**
 * Shape checks for the sets the package cannot expand. LL379-9 (LOINC answer list for variant
 * types): the package has no LOINC content, so any LOINC answer code shape (`LA<n>-<check>`).
 * `any` (a set the expander could not expand and that has no known shape): any code.
 */
const FORMATS: Record<ValueSetFormat, { test: (code: string) => boolean; system?: string }> = {
  'mime-type': { test: (c) => MIME.test(c), system: 'urn:ietf:bcp:13' },
  currency: { test: (c) => CURRENCY.test(c), system: 'urn:iso:std:iso:4217' },
  ucum: { test: isUcumShaped, system: 'http://unitsofmeasure.org' },
  'loinc-answer': { test: (c) => LOINC_ANSWER.test(c), system: 'http://loinc.org' },
  any: { test: () => true },
};

/** Compiles a model value set for membership tests. */
export function compileValueSet(url: string, def: ValueSetDef): CompiledValueSet {
  const systems = new Map<string, Set<string>>();
  const all = new Set<string>();
  for (const [system, codes] of Object.entries(def.codes ?? {})) {
    systems.set(system, new Set(codes));
    for (const c of codes) all.add(c);
  }
  return { url, systems, all, format: def.format ? FORMATS[def.format] : undefined };
}

/** True when a bare code (a `code`/`string`/`uri` element) is in the set. */
export function isCodeInValueSet(vs: CompiledValueSet, code: string): boolean {
  return vs.format ? vs.format.test(code) : vs.all.has(code);
}

/** The outcome of a system+code test: `in`, `out` (system matches, code does not), `other` system. */
export type CodingMatch = 'in' | 'out' | 'other';

/** Tests a system+code pair (a Coding or a Quantity) against the set. */
export function matchCoding(vs: CompiledValueSet, system: unknown, code: unknown): CodingMatch {
  if (typeof code !== 'string') return 'other';
  if (vs.format) {
    if (vs.format.system && typeof system === 'string' && system !== vs.format.system) return 'other';
    return vs.format.test(code) ? 'in' : 'out';
  }
  if (typeof system !== 'string') return vs.all.has(code) ? 'in' : 'out';
  const codes = vs.systems.get(system);
  if (!codes) return 'other';
  return codes.has(code) ? 'in' : 'out';
}

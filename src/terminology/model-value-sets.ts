/**
 * The value sets of required bindings, for the committed model (src/fhir/build-model.ts): each
 * expanded from the definitions package by the one expander (expand-value-set.ts) into codes per
 * system, else checked by format only (DECISIONS §4).
 * https://hl7.org/fhir/R4/terminologies.html#required
 */
import type { ValueSetDef, ValueSetFormat } from '../fhir/model-types.ts';
import { expandValueSet } from './expand-value-set.ts';
import { createPackageSource, type RawResource } from './package-source.ts';
import { TerminologyError } from './terminology-errors.ts';

/**
 * Value sets that cannot be expanded from the package and how they are checked instead (DECISIONS
 * §4). `v3-ConfidentialityClassification`, also named there, does expand: the package's ValueSet
 * lists its six codes explicitly (U, L, M, N, R, V); only the `|2014-03-26` version suffix of the
 * binding has to be dropped to find it.
 */
const FORMAT_ONLY: Record<string, ValueSetFormat> = {
  'http://hl7.org/fhir/ValueSet/mimetypes': 'mime-type',
  'http://hl7.org/fhir/ValueSet/currencies': 'currency',
  'http://hl7.org/fhir/ValueSet/ucum-units': 'ucum',
  'http://loinc.org/vs/LL379-9': 'loinc-answer',
};

/** Builds the model's expander over the package's CodeSystems and ValueSets and its published expansions. */
export function createModelValueSetExpander(resources: RawResource[], expansions: RawResource[]): (url: string) => ValueSetDef {
  const source = createPackageSource(resources, expansions);
  return function expand(url: string): ValueSetDef {
    if (FORMAT_ONLY[url]) return { format: FORMAT_ONLY[url] };
    const vs = source.valueSet(url);
    if (!vs) return { format: 'any' };
    try {
      const out: Record<string, string[]> = {};
      for (const entry of expandValueSet(vs, source, { maxEntries: Number.POSITIVE_INFINITY }).entries) {
        (out[entry.system] ??= []).push(entry.code);
      }
      for (const codes of Object.values(out)) codes.sort();
      return { codes: out };
    } catch (err) {
      if (!(err instanceof TerminologyError)) throw err;
      return { format: 'any' };
    }
  };
}

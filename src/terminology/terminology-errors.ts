/**
 * The ways a terminology request fails on its content, each an OperationOutcome with its status:
 * a value set that cannot be expanded here (422 `not-supported`: a whole-system include of SNOMED
 * CT or LOINC, an external code system, a filter this server does not implement), one too large to
 * return (422 `too-costly`), and an unknown canonical inside a value set (422 `not-found`).
 * https://hl7.org/fhir/R4/valueset-operation-expand.html
 */
import { FhirError, outcome } from '../fhir/outcomes.ts';

/** Why an expansion failed; `unsupported` and `unknown` let a published expansion stand in. */
export type TerminologyFailure = 'unsupported' | 'unknown' | 'too-costly';

const CODES: Record<TerminologyFailure, string> = { unsupported: 'not-supported', unknown: 'not-found', 'too-costly': 'too-costly' };

/** A terminology failure: a {@link FhirError} with status 422 and its reason. */
export class TerminologyError extends FhirError {
  constructor(readonly reason: TerminologyFailure, diagnostics: string) {
    super(422, outcome('error', CODES[reason], diagnostics));
  }
}

/** 422 `not-supported`: the value set needs something this server cannot do. */
export function unsupported(diagnostics: string): TerminologyError {
  return new TerminologyError('unsupported', diagnostics);
}

/** 422 `not-found`: a code system or value set a value set names is not known here. */
export function unknownCanonical(diagnostics: string): TerminologyError {
  return new TerminologyError('unknown', diagnostics);
}

/** 422 `too-costly`: the expansion exceeds a documented limit. */
export function expansionTooCostly(diagnostics: string): TerminologyError {
  return new TerminologyError('too-costly', diagnostics);
}

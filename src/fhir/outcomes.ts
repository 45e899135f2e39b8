/**
 * Ready-made FHIR `OperationOutcome` values and the one domain error, {@link FhirError}, that
 * carries an outcome and its HTTP status through every layer.
 * https://hl7.org/fhir/R4/operationoutcome.html
 */

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';

/** An OperationOutcome issue (R4 `OperationOutcome.issue`). */
export interface OutcomeIssue {
  severity: IssueSeverity;
  /** R4 issue-type code: invalid, structure, required, value, invariant, not-found, ... */
  code: string;
  diagnostics?: string;
  expression?: string[];
  details?: { text: string };
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  id?: string;
  issue: OutcomeIssue[];
}

/** The domain error: an OperationOutcome and the HTTP status it answers with. */
export class FhirError extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;
  /** Extra response headers (for example `Retry-After` on 429). */
  readonly headers: Record<string, string>;

  constructor(status: number, outcome: OperationOutcome, headers: Record<string, string> = {}) {
    super(outcome.issue.map((i) => i.diagnostics ?? i.code).join('; '));
    this.name = 'FhirError';
    this.status = status;
    this.outcome = outcome;
    this.headers = headers;
  }
}

export function isFhirError(err: unknown): err is FhirError {
  return err instanceof FhirError;
}

/** Builds an OperationOutcome with one issue. */
export function outcome(severity: IssueSeverity, code: string, diagnostics: string, expression?: string): OperationOutcome {
  const issue: OutcomeIssue = { severity, code, diagnostics };
  if (expression) issue.expression = [expression];
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

/** An informational outcome, for `Prefer: return=OperationOutcome` and successful deletes. */
export function allOk(diagnostics = 'All OK'): OperationOutcome {
  return outcome('information', 'informational', diagnostics);
}

function error(status: number, code: string) {
  return (diagnostics: string, expression?: string): FhirError =>
    new FhirError(status, outcome('error', code, diagnostics, expression));
}

export const badRequest = error(400, 'invalid');
export const unauthorized = error(401, 'login');
export const forbidden = error(403, 'forbidden');
export const notFound = error(404, 'not-found');
export const methodNotAllowed = error(405, 'not-supported');
export const notAcceptable = error(406, 'not-supported');
export const conflict = error(409, 'conflict');
export const gone = error(410, 'deleted');
export const preconditionFailed = error(412, 'conflict');
/** Conditional criteria matching more than one resource: one code for REST answers and Bundle entries. */
export const multipleMatches = error(412, 'multiple-matches');
export const payloadTooLarge = error(413, 'too-costly');
export const unsupportedMediaType = error(415, 'not-supported');
export const unprocessable = error(422, 'processing');
export const tooManyRequests = error(429, 'throttled');
export const notImplemented = error(501, 'not-supported');
/**
 * A request whose client closed the connection before the answer (nginx's 499): its statements
 * were cancelled. Nobody reads the answer; the audit trail records it.
 */
export const clientClosedRequest = error(499, 'incomplete');
/** A request over one of the documented cost limits (README "Limits"). */
export const tooCostly = error(400, 'too-costly');
/** A resource over one of the documented size limits (README "Limits"). */
export const resourceTooCostly = error(422, 'too-costly');

/** A 422 carrying every validation issue at once. */
export function invalidResource(issues: OutcomeIssue[]): FhirError {
  return new FhirError(422, { resourceType: 'OperationOutcome', issue: issues });
}

/** The HTTP status an outcome stands for: the first error's kind, else 200. */
export function statusOf(err: unknown): number {
  return isFhirError(err) ? err.status : 500;
}

/** Asserts a programmer invariant; never used for client input. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`Invariant failed: ${message}`);
}

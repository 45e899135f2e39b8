/**
 * `ValueSet/$validate-code` (type and instance level, GET and POST): whether a code — `code` with
 * `system` (+`systemVersion`, `display`), a `coding`, or any coding of a `codeableConcept` — is in
 * a value set (stored, built in, or given in the body), answered as Parameters `result`,
 * `message` and `display` (src/terminology/check-codings.ts decides). A value set that cannot be
 * expanded here answers 422, as `$expand` does.
 * https://hl7.org/fhir/R4/valueset-operation-validate-code.html
 */
import { badRequest } from '../fhir/outcomes.ts';
import { sendValue } from '../rest/reply.ts';
import { parseCanonical } from '../terminology/canonical.ts';
import { checkCodings, type CodingToCheck } from '../terminology/check-codings.ts';
import { labelOf } from '../terminology/expand-value-set.ts';
import type { Operation, OperationCall } from './operation.ts';
import type { OperationParams } from './operation-parameters.ts';
import { expandNamedValueSet, VALUE_SET_PARAMS } from './terminology/resolve-value-set.ts';

/** At most this many codings of a codeableConcept are checked. */
const MAX_CODINGS = 100;

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

function fromCoding(coding: Record<string, unknown>): CodingToCheck {
  return { system: text(coding.system), version: text(coding.version), code: text(coding.code), display: text(coding.display) };
}

/** The codings to check, from exactly one of code, coding and codeableConcept. */
function readCodings(params: OperationParams): CodingToCheck[] {
  const given = ['code', 'coding', 'codeableConcept'].filter((name) => params.has(name));
  if (given.length !== 1) throw badRequest('$validate-code needs exactly one of code (with system), coding, or codeableConcept', given[1] ?? 'code');
  if (given[0] === 'code') {
    const system = params.string('system');
    if (system === undefined) throw badRequest('A code needs its system (the system parameter)', 'system');
    const { url, version } = parseCanonical(system, params.string('systemVersion'));
    return [{ system: url, version, code: params.string('code'), display: params.string('display') }];
  }
  if (params.has('system') || params.has('display') || params.has('systemVersion')) {
    throw badRequest('system, systemVersion and display go with code; a coding or codeableConcept carries its own', 'system');
  }
  if (given[0] === 'coding') {
    const coding = fromCoding(params.object('coding')!);
    if (coding.code === undefined || coding.system === undefined) throw badRequest('The coding needs a system and a code', 'coding');
    return [coding];
  }
  const codings = params.object('codeableConcept')!.coding;
  if (!Array.isArray(codings) || codings.length === 0) throw badRequest('The codeableConcept has no coding to check', 'codeableConcept');
  if (codings.length > MAX_CODINGS) throw badRequest(`At most ${MAX_CODINGS} codings of a codeableConcept are checked`, 'codeableConcept');
  return codings.map((c) => fromCoding(c !== null && typeof c === 'object' ? c as Record<string, unknown> : {}));
}

async function handle(call: OperationCall): Promise<unknown> {
  const { request, reply, params } = call;
  const codings = readCodings(params);
  const { vs, entries } = await expandNamedValueSet(call, { includeDesignations: true });
  const verdict = checkCodings(codings, entries, labelOf(vs), params.boolean('abstract') ?? false);
  const parameter: Record<string, unknown>[] = [{ name: 'result', valueBoolean: verdict.result }];
  if (verdict.message !== undefined) parameter.push({ name: 'message', valueString: verdict.message });
  if (verdict.display !== undefined) parameter.push({ name: 'display', valueString: verdict.display });
  return sendValue(request, reply, 200, { resourceType: 'Parameters', parameter });
}

export const validateCodeOperation: Operation = {
  name: 'validate-code',
  definition: 'http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code',
  levels: ['type', 'instance'],
  resourceTypes: ['ValueSet'],
  permissions: ['r'],
  action: 'R',
  methods: ['GET', 'POST'],
  parameters: [
    ...VALUE_SET_PARAMS,
    { name: 'code', type: 'code' },
    { name: 'system', type: 'uri' },
    { name: 'systemVersion', type: 'string' },
    { name: 'display', type: 'string' },
    { name: 'coding', type: 'Coding' },
    { name: 'codeableConcept', type: 'CodeableConcept' },
    { name: 'abstract', type: 'boolean' },
  ],
  handle,
};

/**
 * `CodeSystem/$lookup` (type level, GET and POST): a code's display, designations and properties
 * (its own, `definition`, and `parent`/`child` from the hierarchy; `property` narrows them) in a
 * stored or built-in code system, named by `system` (+`version`, or `system|version`) and `code`,
 * or by a `coding`. A code system or code not known here answers 404 (as HAPI FHIR does: the
 * spec asks for an OperationOutcome, not a status).
 * https://hl7.org/fhir/R4/codesystem-operation-lookup.html
 */
import { badRequest, notFound } from '../fhir/outcomes.ts';
import { sendValue } from '../rest/reply.ts';
import { formatCanonical, parseCanonical, type Canonical } from '../terminology/canonical.ts';
import { lookupConcept } from '../terminology/concept-lookup.ts';
import type { Operation, OperationCall } from './operation.ts';
import { createOperationTerminology } from './terminology/terminology-source.ts';

/** The system, version and code asked about: `code`+`system`(+`version`), or `coding`. */
function readCoding(call: OperationCall): Canonical & { code: string } {
  const { params } = call;
  const coding = params.object('coding');
  if (coding && (params.has('code') || params.has('system'))) throw badRequest('Give either code and system, or coding, not both', 'coding');
  const code = coding ? coding.code : params.string('code');
  const system = coding ? coding.system : params.string('system');
  if (typeof code !== 'string' || code === '') throw badRequest('$lookup needs a code (code and system, or coding)', 'code');
  if (typeof system !== 'string' || system === '') throw badRequest('$lookup needs the code system: system, or coding.system', 'system');
  const version = params.string('version') ?? (typeof coding?.version === 'string' ? coding.version : undefined);
  return { code, ...parseCanonical(system, version) };
}

async function handle(call: OperationCall): Promise<unknown> {
  const { request, reply, deps, ctx, params } = call;
  const { code, ...canonical } = readCoding(call);
  const terminology = await createOperationTerminology(deps.service, ctx);
  const cs = await terminology.findCodeSystem(canonical);
  if (!cs) throw notFound(`The code system ${formatCanonical(canonical)} is not known here (neither built in nor stored)`);
  const answer = lookupConcept(cs, code, params.strings('property'));
  if (!answer) {
    const held = cs.content === 'complete' ? '' : ` (this server holds only part of it: content = ${cs.content ?? 'unknown'})`;
    throw notFound(`Unable to find code "${code.slice(0, 100)}" in the code system ${formatCanonical(canonical)}${held}`);
  }
  return sendValue(request, reply, 200, answer);
}

export const lookupOperation: Operation = {
  name: 'lookup',
  definition: 'http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup',
  levels: ['type'],
  resourceTypes: ['CodeSystem'],
  permissions: ['r'],
  action: 'R',
  methods: ['GET', 'POST'],
  parameters: [
    { name: 'code', type: 'code' },
    { name: 'system', type: 'uri' },
    { name: 'version', type: 'string' },
    { name: 'coding', type: 'Coding' },
    { name: 'property', type: 'code', max: '*' },
  ],
  handle,
};

/**
 * `GET|POST /fhir/Patient/{id}/$everything` and `/fhir/Patient/$everything`: a patient's record
 * (every patient's, at type level) as a paged searchset Bundle — the Patient compartment, then the
 * resources it refers to — with `_type`, `_since`, `_count` and fhirgraph's own `_cursor` (the
 * `next` link's). The care-date parameters `start` and `end` are not implemented, so not declared
 * (they answer 400). The work is the core service's (src/service/patient-everything.ts).
 * https://hl7.org/fhir/R4/patient-operation-everything.html
 */
import { renderBundle } from '../rest/render-bundle.ts';
import { sendJson } from '../rest/reply.ts';
import { patientEverything } from '../service/patient-everything.ts';
import type { Operation, OperationCall } from './operation.ts';

async function handle({ request, reply, deps, ctx, id, params }: OperationCall): Promise<unknown> {
  const bundle = await patientEverything(deps.service, ctx, id, {
    types: params.strings('_type'),
    since: params.string('_since'),
    count: params.integer('_count'),
    cursor: params.string('_cursor'),
  }, { maxReferencing: deps.config.everything.maxReferencing });
  return sendJson(request, reply, 200, renderBundle(bundle));
}

export const everythingOperation: Operation = {
  name: 'everything',
  definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
  levels: ['type', 'instance'],
  resourceTypes: ['Patient'],
  permissions: ['r'],
  action: 'R',
  methods: ['GET', 'POST'],
  parameters: [
    { name: '_since', type: 'instant' },
    { name: '_type', type: 'code', max: '*' },
    { name: '_count', type: 'integer' },
    { name: '_cursor', type: 'string', own: true },
  ],
  handle,
};

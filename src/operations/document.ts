/**
 * `GET|POST /fhir/Composition/{id}/$document`: the document Bundle the Composition heads (the
 * Composition, then every resource it refers to, recursively; src/service/composition-document.ts).
 * With `persist=true` (POST only: a GET changes nothing) the Bundle is also stored as a `Bundle`
 * resource — a create, needing create permission on Bundle, checked before the document is
 * assembled — and the answer is 201 with the stored Bundle and its `Location`. The `graph`
 * parameter (a GraphDefinition) and the type-level form (`Composition/$document?id=`) are not
 * implemented. https://hl7.org/fhir/R4/composition-operation-document.html
 */
import { badRequest } from '../fhir/outcomes.ts';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { sendJson, sendWritten } from '../rest/reply.ts';
import { authorize } from '../service/authorize.ts';
import { collectDocumentResources, renderDocumentBundle } from '../service/composition-document.ts';
import type { Operation, OperationCall } from './operation.ts';

async function handle({ request, reply, deps, ctx, id, params }: OperationCall): Promise<unknown> {
  const persist = params.boolean('persist') ?? false;
  if (persist) {
    if (request.method === 'GET') throw badRequest('persist=true stores the document: invoke $document with POST to persist it', 'persist');
    authorize(ctx, 'Bundle', 'c');
  }
  const resources = await collectDocumentResources(deps.service, ctx, id!, { maxResources: deps.config.document.maxResources });
  const bundle = renderDocumentBundle(ctx, resources);
  if (!persist) return sendJson(request, reply, 200, bundle);
  const stored = await deps.service.create(ctx, 'Bundle', parseFhirJson(bundle));
  return sendWritten(request, reply, 201, stored.version, ctx.fhirBaseUrl, { location: true });
}

export const documentOperation: Operation = {
  name: 'document',
  definition: 'http://hl7.org/fhir/OperationDefinition/Composition-document',
  levels: ['instance'],
  resourceTypes: ['Composition'],
  permissions: ['r'],
  action: 'R',
  methods: ['GET', 'POST'],
  parameters: [{ name: 'persist', type: 'boolean' }],
  handle,
};

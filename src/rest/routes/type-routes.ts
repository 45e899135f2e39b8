/**
 * Type-level interactions: create (with conditional `If-None-Exist`) and `$validate` at type and
 * instance level. https://hl7.org/fhir/R4/http.html#create,
 * https://hl7.org/fhir/R4/resource-operation-validate.html
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { allOk, badRequest, type OperationOutcome } from '../../fhir/outcomes.ts';
import { parseFhirJson } from '../../fhir/fhir-json.ts';
import { isJsonObject } from '../../service/resource-content.ts';
import type { FhirRoute, Params, RouteDeps } from '../fhir-route.ts';
import { operationCapability } from '../operation-definitions.ts';
import { readTypedBody, typedBodySource } from '../request-body.ts';
import { sendOutcome, sendWritten } from '../reply.ts';

/** Takes the resource out of a `$validate` body: a resource, or Parameters with `resource`. */
function resourceToValidate(body: unknown, type: string): unknown {
  if (isJsonObject(body) && body.resourceType === 'Parameters' && type !== 'Parameters') {
    const parameters = Array.isArray(body.parameter) ? body.parameter : [];
    const param = parameters.find((p) => isJsonObject(p) && p.name === 'resource') as Record<string, unknown> | undefined;
    if (!param?.resource) throw badRequest('$validate Parameters need a "resource" parameter', 'Parameters.parameter');
    return param.resource;
  }
  return body;
}

async function validate(request: FastifyRequest, reply: FastifyReply, deps: RouteDeps): Promise<unknown> {
  const { type, id } = request.params as Params;
  const ctx = deps.context(request);
  // Authorise first: a caller without the permission learns nothing about the body or the instance.
  deps.service.authorizeValidate(ctx, type, id);
  let resource: unknown;
  if (id !== undefined && (typeof request.body !== 'string' || request.body.trim() === '')) {
    resource = parseFhirJson((await deps.service.read(ctx, type, id)).content!);
  } else {
    resource = resourceToValidate(await readTypedBody(request, type, deps.config.limits.resource.maxRepeats), type);
  }
  if (id !== undefined && isJsonObject(resource) && resource.id !== id) {
    throw badRequest(`The resource's id must be "${id}" to validate it as that instance`, `${type}.id`);
  }
  const issues = await deps.service.validate(ctx, type, resource);
  const outcome: OperationOutcome = issues.length > 0
    ? { resourceType: 'OperationOutcome', issue: issues }
    : allOk(`${type} is valid`);
  return sendOutcome(request, reply, 200, outcome);
}

/** `POST /fhir/{type}` with a FHIR JSON body (also the FHIR JSON side of `POST /fhir/Binary`). */
export const createHandler: FhirRoute['handler'] = async (request, reply, { service, context, config }) => {
  const { type } = request.params as Params;
  const ctx = context(request);
  const ifNoneExist = request.headers['if-none-exist'];
  const result = await service.create(ctx, type, await typedBodySource(request, type, config.limits.resource.maxRepeats), {
    ifNoneExist: Array.isArray(ifNoneExist) ? ifNoneExist[0] : ifNoneExist,
  });
  return sendWritten(request, reply, result.matchedExisting ? 200 : 201, result.version, ctx.fhirBaseUrl, { location: true });
};

export const typeRoutes: FhirRoute[] = [
  {
    method: 'POST',
    url: '/fhir/:type',
    capabilities: [{ level: 'type', interaction: 'create' }],
    body: 'typed',
    handler: createHandler,
  },
  {
    method: 'POST',
    url: '/fhir/:type/$validate',
    capabilities: [operationCapability('validate', 'type')],
    body: 'typed',
    handler: validate,
  },
  {
    method: 'POST',
    url: '/fhir/:type/:id/$validate',
    capabilities: [operationCapability('validate', 'instance')],
    body: 'typed',
    handler: validate,
  },
];

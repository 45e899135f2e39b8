/**
 * `$validate` at type and instance level: checks a resource (the body, a `Parameters` with
 * `resource`, or, at instance level with no body, the stored one) without storing it, and answers
 * 200 with the problems in an OperationOutcome. It needs create or update permission on the type.
 * https://hl7.org/fhir/R4/resource-operation-validate.html
 */
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { allOk, badRequest, type OperationOutcome, type OutcomeIssue } from '../fhir/outcomes.ts';
import type { FhirService } from '../service/fhir-service.ts';
import type { RequestContext } from '../service/request-context.ts';
import { isJsonObject } from '../service/resource-content.ts';
import { readTypedBody } from '../rest/request-body.ts';
import { sendOutcome } from '../rest/reply.ts';
import type { Operation, OperationCall } from './operation.ts';

/** Takes the resource out of a `$validate` body: a resource, or Parameters with `resource`. */
export function resourceToValidate(body: unknown, type: string): unknown {
  if (isJsonObject(body) && body.resourceType === 'Parameters' && type !== 'Parameters') {
    const parameters = Array.isArray(body.parameter) ? body.parameter : [];
    const param = parameters.find((p) => isJsonObject(p) && p.name === 'resource') as Record<string, unknown> | undefined;
    if (!param?.resource) throw badRequest('$validate Parameters need a "resource" parameter', 'Parameters.parameter');
    return param.resource;
  }
  return body;
}

/** The work: the problems of `resource` as an instance of `type` (and of the instance `id`). */
export async function validateResource(service: FhirService, ctx: RequestContext, type: string, id: string | undefined, resource: unknown): Promise<OperationOutcome> {
  if (id !== undefined && isJsonObject(resource) && resource.id !== id) {
    throw badRequest(`The resource's id must be "${id}" to validate it as that instance`, `${type}.id`);
  }
  const issues: OutcomeIssue[] = await service.validate(ctx, type, resource);
  return issues.length > 0 ? { resourceType: 'OperationOutcome', issue: issues } : allOk(`${type} is valid`);
}

async function handle({ request, reply, deps, ctx, type, id }: OperationCall): Promise<unknown> {
  const resourceType = type!;
  // Authorise first: a caller without the permission learns nothing about the body or the instance.
  deps.service.authorizeValidate(ctx, resourceType, id);
  const resource = id !== undefined && (typeof request.body !== 'string' || request.body.trim() === '')
    ? parseFhirJson((await deps.service.read(ctx, resourceType, id)).content!)
    : resourceToValidate(await readTypedBody(request, resourceType, deps.config.limits.resource.maxRepeats), resourceType);
  return sendOutcome(request, reply, 200, await validateResource(deps.service, ctx, resourceType, id, resource));
}

export const validateOperation: Operation = {
  name: 'validate',
  definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  levels: ['type', 'instance'],
  permissions: ['c', 'u'],
  action: 'E',
  methods: ['POST'],
  parameters: [],
  readsBody: true,
  body: 'typed',
  handle,
};

/**
 * Type-level interactions: create (with conditional `If-None-Exist`); `$validate` is an operation
 * (src/operations/validate.ts). https://hl7.org/fhir/R4/http.html#create
 */
import type { FhirRoute, Params } from '../fhir-route.ts';
import { typedBodySource } from '../request-body.ts';
import { sendWritten } from '../reply.ts';

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
];

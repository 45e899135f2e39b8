/**
 * System-level interactions: `batch` and `transaction` Bundles posted to the base URL, and the
 * CapabilityStatement. https://hl7.org/fhir/R4/http.html#transaction,
 * https://hl7.org/fhir/R4/http.html#capabilities
 */
import type { FhirRoute } from '../fhir-route.ts';
import { readResourceBody } from '../request-body.ts';
import { renderBundle } from '../render-bundle.ts';
import { returnPreference, sendJson } from '../reply.ts';

export const systemRoutes: FhirRoute[] = [
  {
    method: 'POST',
    url: '/fhir',
    capabilities: [{ level: 'system', interaction: 'transaction' }, { level: 'system', interaction: 'batch' }],
    async handler(request, reply, { service, context }) {
      const result = await service.processBundle(context(request), () => readResourceBody(request));
      const preference = returnPreference(request);
      return sendJson(request, reply, 200, renderBundle(result, { includeResources: preference === 'representation' }));
    },
  },
];

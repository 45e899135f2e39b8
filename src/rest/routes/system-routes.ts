/**
 * System-level interactions: `batch` and `transaction` Bundles posted to the base URL, and the
 * CapabilityStatement. https://hl7.org/fhir/R4/http.html#transaction,
 * https://hl7.org/fhir/R4/http.html#capabilities
 */
import type { FhirRoute } from '../fhir-route.ts';
import { readBundleBody } from '../request-body.ts';
import { renderBundle } from '../render-bundle.ts';
import { returnPreference, sendJson } from '../reply.ts';

export const systemRoutes: FhirRoute[] = [
  {
    method: 'POST',
    url: '/fhir',
    capabilities: [{ level: 'system', interaction: 'transaction' }, { level: 'system', interaction: 'batch' }],
    body: 'bundle',
    async handler(request, reply, { service, context, config }) {
      const result = await service.processBundle(context(request), await readBundleBody(request, config.limits.resource.maxRepeats));
      const preference = returnPreference(request);
      return sendJson(request, reply, 200, renderBundle(result, { includeResources: preference === 'representation' }));
    },
  },
];

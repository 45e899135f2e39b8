/**
 * Renders a {@link BundleResult} as FHIR JSON text, splicing each entry's stored resource text
 * in as it is, so rendering a Bundle never parses the resources it carries.
 * https://hl7.org/fhir/R4/bundle.html
 */
import { randomUUID } from 'node:crypto';
import type { BundleResult } from '../service/bundle-result.ts';

/** Serialises a Bundle; `resourceJson` entries are inserted verbatim. */
export function renderBundle(bundle: BundleResult, options: { includeResources?: boolean; includeOutcomes?: boolean } = {}): string {
  const includeResources = options.includeResources ?? true;
  const head: Record<string, unknown> = {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date().toISOString() },
    type: bundle.type,
  };
  if (bundle.total !== undefined) head.total = bundle.total;
  if (bundle.link) head.link = bundle.link;
  const entries = bundle.entry.map((entry) => {
    const { resourceJson, ...rest } = entry;
    if (options.includeOutcomes === false && rest.response?.outcome) {
      rest.response = { ...rest.response, outcome: undefined };
    }
    const json = JSON.stringify(rest);
    if (!includeResources || !resourceJson) return json;
    return json === '{}' ? `{"resource":${resourceJson}}` : `${json.slice(0, -1)},"resource":${resourceJson}}`;
  });
  return `${JSON.stringify(head).slice(0, -1)},"entry":[${entries.join(',')}]}`;
}

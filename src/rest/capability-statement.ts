/**
 * Generates the server's CapabilityStatement from the route table and the FHIR model, so it
 * lists exactly the interactions and operations that are served, for every resource type.
 * https://hl7.org/fhir/R4/capabilitystatement.html
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import { searchParamSupport } from '../search/search-param-support.ts';
import type { FhirRoute } from './fhir-route.ts';

const UNSUPPORTED_PARAM = 'https://fhirgraph.dev/StructureDefinition/unsupported-search-param';

/** `searchParam` (supported) and an extension per unsupported parameter with its reason. */
function searchParams(model: FhirModel, type: string): Record<string, unknown> {
  const { supported, unsupported } = searchParamSupport(model, type);
  const out: Record<string, unknown> = {
    searchParam: supported.map((p) => ({ name: p.code, definition: p.url, type: p.type })),
    searchInclude: supported.some((p) => p.type === 'reference') ? ['*', ...supported.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`)] : undefined,
  };
  if (unsupported.length > 0) {
    out.extension = unsupported.map(({ param, reason }) => ({
      url: UNSUPPORTED_PARAM,
      extension: [{ url: 'name', valueString: param.code }, { url: 'definition', valueCanonical: param.url }, { url: 'reason', valueString: reason }],
    }));
  }
  return out;
}

/** Builds the CapabilityStatement (once, at start). */
export function buildCapabilityStatement(routes: FhirRoute[], model: FhirModel, publicUrl: string, softwareVersion: string): Record<string, unknown> {
  const fhirBaseUrl = `${publicUrl}/fhir`;
  const capabilities = routes.flatMap((r) => r.capabilities);
  const typeInteractions = [...new Set(capabilities.flatMap((c) => (c.level === 'type' ? [c.interaction] : [])))];
  const systemInteractions = [...new Set(capabilities.flatMap((c) => (c.level === 'system' ? [c.interaction] : [])))];
  const operations = new Map<string, { name: string; definition: string; scopes: Set<string>; resourceType?: string }>();
  for (const c of capabilities) {
    if (c.level !== 'operation') continue;
    const op = operations.get(c.name) ?? { name: c.name, definition: c.definition, scopes: new Set<string>(), resourceType: c.resourceType };
    op.scopes.add(c.scope);
    operations.set(c.name, op);
  }
  const typeOperations = [...operations.values()].filter((o) => o.scopes.has('type') || o.scopes.has('instance'));
  const conditionalCreate = typeInteractions.includes('create');
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'fhirgraph',
    kind: 'instance',
    software: { name: 'fhirgraph', version: softwareVersion },
    implementation: { description: 'fhirgraph FHIR R4 server', url: fhirBaseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: typeInteractions.includes('patch') ? ['application/json-patch+json'] : undefined,
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          extension: [{
            url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
            extension: [
              { url: 'token', valueUri: `${publicUrl}/auth/token` },
              { url: 'revoke', valueUri: `${publicUrl}/auth/revoke` },
            ],
          }],
        },
        resource: model.resourceTypes.map((type) => ({
          ...(typeInteractions.includes('search-type') ? searchParams(model, type) : {}),
          type,
          profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
          interaction: typeInteractions.map((code) => ({ code })),
          versioning: 'versioned-update',
          readHistory: typeInteractions.includes('vread'),
          updateCreate: typeInteractions.includes('update'),
          conditionalCreate,
          conditionalRead: 'not-supported',
          conditionalUpdate: routes.some((r) => r.method === 'PUT' && r.url === '/fhir/:type'),
          conditionalDelete: routes.some((r) => r.method === 'DELETE' && r.url === '/fhir/:type') ? 'single' : 'not-supported',
          operation: typeOperations.filter((o) => !o.resourceType || o.resourceType === type).map((o) => ({ name: o.name, definition: o.definition })),
        })),
        interaction: systemInteractions.map((code) => ({ code })),
      },
    ],
  };
}

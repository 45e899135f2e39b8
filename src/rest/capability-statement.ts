/**
 * Generates the server's CapabilityStatement from the route table, the FHIR model and the
 * authorisation policy, so it lists exactly the interactions and operations that are served, per
 * resource type: nothing the server refuses to every client (AuditEvent is append-only), and
 * what only admin clients may do marked so. https://hl7.org/fhir/R4/capabilitystatement.html
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import { searchParamSupport } from '../search/search-param-support.ts';
import { AUDIT_SEARCH_PARAMS } from '../store/audit-search-sql.ts';
import { audienceOf, type Permission } from '../service/authorize.ts';
import type { CapabilityRoute, TypeInteraction } from './fhir-route.ts';

const UNSUPPORTED_PARAM = 'https://fhirgraph.dev/StructureDefinition/unsupported-search-param';

/** `searchParam` (supported) and an extension per unsupported parameter with its reason. */
function searchParams(model: FhirModel, type: string): Record<string, unknown> {
  const support = searchParamSupport(model, type);
  let { supported, unsupported } = support;
  if (type === 'AuditEvent') {
    // The audit trail is its own table (src/store/audit-search-sql.ts), searched by the columns it keeps.
    const kept = (code: string) => AUDIT_SEARCH_PARAMS.has(code);
    unsupported = [...unsupported, ...supported.filter((p) => !kept(p.code)).map((param) => ({ param, reason: 'the audit trail keeps no column for it (it is searched by _id, _lastUpdated, date, action, outcome, type, subtype, agent, entity and patient)' }))];
    supported = supported.filter((p) => kept(p.code));
  }
  const out: Record<string, unknown> = {
    searchParam: supported.map((p) => ({ name: p.code, definition: p.url, type: p.type })),
    searchInclude: supported.some((p) => p.type === 'reference')
      ? ['*', ...supported.filter((p) => p.type === 'reference' && (type !== 'AuditEvent' || p.code === 'entity')).map((p) => `${type}:${p.code}`)] : undefined,
  };
  if (unsupported.length > 0) {
    out.extension = unsupported.map(({ param, reason }) => ({
      url: UNSUPPORTED_PARAM,
      extension: [{ url: 'name', valueString: param.code }, { url: 'definition', valueCanonical: param.url }, { url: 'reason', valueString: reason }],
    }));
  }
  return out;
}

/** The permission each type-level interaction needs (src/service: read 'r', search 's', …). */
const INTERACTION_PERMISSION: Record<TypeInteraction, Permission> = {
  read: 'r', vread: 'r', 'history-instance': 'r', 'history-type': 's', 'search-type': 's', create: 'c', update: 'u', patch: 'u', delete: 'd',
};

const ADMIN_ONLY = 'Admin clients only';

interface TypeOperation { name: string; definition: string; permissions: readonly Permission[]; resourceTypes?: readonly string[] }

/** One `rest.resource` entry: only the interactions and operations served on `type`. */
function resourceEntry(
  model: FhirModel, type: string, interactions: TypeInteraction[], operations: TypeOperation[], routes: CapabilityRoute[],
): Record<string, unknown> {
  const served = (interaction: TypeInteraction) => interactions.includes(interaction) && audienceOf(type, INTERACTION_PERMISSION[interaction]) !== 'none';
  const hasRoute = (method: string) => routes.some((r) => r.method === method && r.url === '/fhir/:type');
  return {
    ...(served('search-type') ? searchParams(model, type) : {}),
    type,
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: interactions.filter(served).map((code) => (
      audienceOf(type, INTERACTION_PERMISSION[code]) === 'admin' ? { code, documentation: ADMIN_ONLY } : { code }
    )),
    versioning: 'versioned-update',
    readHistory: served('vread'),
    updateCreate: served('update'),
    conditionalCreate: served('create'),
    conditionalRead: served('read') ? 'full-support' : 'not-supported',
    conditionalUpdate: served('update') && hasRoute('PUT'),
    conditionalDelete: served('delete') && hasRoute('DELETE') ? 'single' : 'not-supported',
    operation: operations
      .filter((o) => (!o.resourceTypes || o.resourceTypes.includes(type))
        && (o.permissions.length === 0 || o.permissions.some((p) => audienceOf(type, p) !== 'none')))
      .map((o) => ({ name: o.name, definition: o.definition })),
  };
}

/**
 * Builds the CapabilityStatement (once, at start) from the route table (the REST routes and the
 * GraphQL endpoints).
 */
export function buildCapabilityStatement(routes: CapabilityRoute[], model: FhirModel, publicUrl: string, softwareVersion: string): Record<string, unknown> {
  const fhirBaseUrl = `${publicUrl}/fhir`;
  const capabilities = routes.flatMap((r) => r.capabilities);
  const typeInteractions = [...new Set(capabilities.flatMap((c) => (c.level === 'type' ? [c.interaction] : [])))];
  const systemInteractions = [...new Set(capabilities.flatMap((c) => (c.level === 'system' ? [c.interaction] : [])))];
  // Keyed by name and definition: the Bulk Data IG's three `export` operations share a name.
  const operations = new Map<string, TypeOperation & { scopes: Set<string> }>();
  for (const c of capabilities) {
    if (c.level !== 'operation') continue;
    const key = `${c.name} ${c.definition}`;
    const op = operations.get(key) ?? {
      name: c.name, definition: c.definition, permissions: c.permissions, resourceTypes: c.resourceTypes, scopes: new Set<string>(),
    };
    op.scopes.add(c.scope);
    operations.set(key, op);
  }
  const typeOperations = [...operations.values()].filter((o) => o.scopes.has('type') || o.scopes.has('instance'));
  const systemOperations = [...operations.values()].filter((o) => o.scopes.has('system'));
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
        resource: model.resourceTypes.map((type) => resourceEntry(model, type, typeInteractions, typeOperations, routes)),
        interaction: systemInteractions.map((code) => ({ code })),
        operation: systemOperations.length > 0 ? systemOperations.map((o) => ({ name: o.name, definition: o.definition })) : undefined,
      },
    ],
  };
}

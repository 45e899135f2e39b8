/**
 * The FHIR operations this server serves, by name: the OperationDefinition each implements and
 * the permissions (any one of them) a caller needs on a type to run it there, so the
 * CapabilityStatement lists an operation on the types where some client may run it.
 * https://hl7.org/fhir/R4/operations.html  https://hl7.org/fhir/R4/capabilitystatement-definitions.html#CapabilityStatement.rest.resource.operation
 */
import { invariant } from '../fhir/outcomes.ts';
import type { Permission } from '../service/authorize.ts';
import type { RouteCapability } from './fhir-route.ts';

interface OperationInfo {
  definition: string;
  /** Any one of these permissions on a type lets a caller run the operation there. */
  permissions: Permission[];
  /** The one type it is served on; absent: every type. */
  resourceType?: string;
}

const OPERATIONS: Record<string, OperationInfo> = {
  validate: { definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate', permissions: ['c', 'u'] },
  graphql: { definition: 'http://hl7.org/fhir/OperationDefinition/Resource-graphql', permissions: ['r'] },
  // fhirgraph's own: re-delivers a webhook Subscription's changes from the change feed (src/webhooks).
  replay: { definition: 'https://fhirgraph.dev/OperationDefinition/Subscription-replay', permissions: ['u'], resourceType: 'Subscription' },
};

/** The capability of a route serving operation `name` (one this module describes). */
export function operationCapability(name: string, scope: 'system' | 'type' | 'instance'): RouteCapability {
  const info = OPERATIONS[name];
  invariant(info, `operation ${name} has a definition in operation-definitions.ts`);
  return { level: 'operation', name, definition: info.definition, scope };
}

/** The one resource type operation `name` is served on, or undefined when it is served on every type. */
export function operationResourceType(name: string): string | undefined {
  return OPERATIONS[name]?.resourceType;
}

/** The permissions (any one of them) a caller needs on a type to run operation `name` there. */
export function operationPermissions(name: string): Permission[] {
  const info = OPERATIONS[name];
  invariant(info, `operation ${name} has a definition in operation-definitions.ts`);
  return info.permissions;
}

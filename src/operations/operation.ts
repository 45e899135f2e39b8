/**
 * What a FHIR operation of this server is: one entry of the registry (registry.ts) naming the
 * official OperationDefinition it implements, where it is served (system, type, instance; which
 * resource types), the permission it needs, its parameters, and a thin handler over a function
 * that does the work. The REST routes and the CapabilityStatement are generated from these
 * entries (operation-routes.ts), so nothing is listed that is not served.
 * https://hl7.org/fhir/R4/operations.html  https://hl7.org/fhir/R4/operationdefinition.html
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Permission } from '../service/authorize.ts';
import type { AuditAction } from '../service/audit/audit-event.ts';
import type { RequestContext } from '../service/request-context.ts';
import type { FhirRoute, RouteBody, RouteDeps } from '../rest/fhir-route.ts';
import type { OperationParam, OperationParams } from './operation-parameters.ts';

export type { OperationParam, OperationParamType } from './operation-parameters.ts';

/** Where an operation is invoked (OperationDefinition `system`, `type`, `instance`). */
export type OperationLevel = 'system' | 'type' | 'instance';

/** What a handler receives: the request, its service context, where it was invoked, its parsed parameters. */
export interface OperationCall {
  request: FastifyRequest;
  reply: FastifyReply;
  deps: RouteDeps;
  ctx: RequestContext;
  level: OperationLevel;
  /** The resource type in the URL (type and instance level). */
  type?: string;
  /** The id in the URL (instance level). */
  id?: string;
  params: OperationParams;
}

/** One operation of the registry. */
export interface Operation {
  /** The name without `$` (`everything`). */
  name: string;
  /** The canonical URL of the OperationDefinition it implements. */
  definition: string;
  levels: readonly OperationLevel[];
  /** The resource types it is served on (type and instance level); absent: every type. */
  resourceTypes?: readonly string[];
  /**
   * Any one of these permissions on the URL's type lets a caller invoke it there (checked before
   * anything else, 403); the operation checks what else it touches itself. Empty: it checks
   * everything itself (a system-level operation over several types).
   */
  permissions: readonly Permission[];
  /** The audit action of an invocation (R for reads, E for operations that are neither). */
  action: AuditAction;
  /** GET only for operations that change nothing (OperationDefinition `affectsState = false`). */
  methods: readonly ('GET' | 'POST')[];
  parameters: readonly OperationParam[];
  /**
   * True when the handler reads the POST body itself (`$validate` takes a bare resource as well as
   * Parameters); otherwise a POST body is a `Parameters` resource read into {@link OperationCall.params}.
   */
  readsBody?: boolean;
  /** Raises the body limit as for Bundles ({@link RouteBody}); unset: `MAX_RESOURCE_BODY`. */
  body?: RouteBody;
  handle(call: OperationCall): Promise<unknown>;
  /** Routes that belong to the operation but are not invocations of it (an export's status and files). */
  routes?: readonly FhirRoute[];
}

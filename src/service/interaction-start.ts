/**
 * How every interaction of the core service opens, in one order, so a client sees the same order
 * of errors whatever it calls (REST, a Bundle entry, GraphQL):
 *
 * 1. the audit names the interaction (so even a refusal is recorded as what it was);
 * 2. an unknown resource type: 404;
 * 3. the caller's scope: 403 (the type is public knowledge, the caller's rights decide the rest);
 * 4. the id's format: 400;
 *
 * then the interaction checks its own parameters, headers and body (400, 415, 422) and only then
 * looks at the stored resource (404, 410, 412). https://hl7.org/fhir/R4/http.html#ops
 */
import { badRequest, notFound } from '../fhir/outcomes.ts';
import type { FhirModel } from '../fhir/fhir-model.ts';
import type { AuditAction } from './audit/audit-event.ts';
import { authorize, isAllowed, type Permission } from './authorize.ts';
import type { RequestContext } from './request-context.ts';

/** FHIR `id` (https://hl7.org/fhir/R4/datatypes.html#id). */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/** Throws 404 unless `resourceType` is a concrete R4 resource type. */
export function assertResourceType(model: FhirModel, resourceType: string): void {
  if (!model.isResourceType(resourceType)) throw notFound(`Unknown resource type "${resourceType.slice(0, 64)}"`);
}

/** Throws 400 unless `id` is a valid FHIR id; `what` names it in the message. */
export function assertId(id: string, what = 'id'): void {
  if (!ID_PATTERN.test(id)) throw badRequest(`Invalid ${what} "${id.slice(0, 80)}": expected 1-64 characters of A-Z a-z 0-9 - .`);
}

/** What an interaction opens with. */
export interface InteractionStart {
  /** The AuditEvent's action (C R U D E) and interaction name. */
  action: AuditAction;
  interaction: string;
  /** The resource types named by the request, each checked (404) before any permission. */
  types?: string[];
  /**
   * Permissions the caller needs, each on its type, checked in order (403); a list means any one
   * of them (`$validate` needs create or update).
   */
  permissions?: [resourceType: string, permission: Permission | Permission[]][];
  /** The id in the URL (400 when malformed). */
  id?: string;
}

/** Opens an interaction: audit, then type (404), then scope (403), then id (400). */
export function startInteraction(ctx: RequestContext, model: FhirModel, start: InteractionStart): void {
  ctx.audit.begin(start.action, start.interaction);
  for (const type of start.types ?? []) assertResourceType(model, type);
  for (const [type, permission] of start.permissions ?? []) {
    const anyOf = [permission].flat();
    if (!anyOf.some((p) => isAllowed(ctx, type, p))) authorize(ctx, type, anyOf[0]);
  }
  if (start.id !== undefined) assertId(start.id);
}

/**
 * The one authorisation module: every facade and every path into the core service (REST
 * interactions, transaction entries, and later GraphQL fields, subscriptions, webhooks and
 * exports) asks here whether the caller's SMART scopes allow an interaction on a resource type.
 * https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 */
import type { Permission } from '../auth/scopes.ts';

export type { Permission };
import { forbidden } from '../fhir/outcomes.ts';
import type { RequestContext } from './request-context.ts';

/**
 * Resource types whose instances only their creating client may change or delete. A Subscription
 * delivers changes with its creator's rights (src/webhooks), so nobody else may redirect it.
 */
export const OWNED_TYPES = new Set(['DocumentReference', 'Binary', 'Subscription']);

const VERBS: Record<Permission, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

/**
 * Who may perform `permission` on `resourceType`, scope permitting: any client, admin clients
 * only, or nobody (the API never does it). The CapabilityStatement lists interactions from this
 * same policy, so it claims nothing the server refuses to everyone.
 */
export type Audience = 'any' | 'admin' | 'none';

/** The {@link Audience} of an interaction on a type. */
export function audienceOf(resourceType: string, permission: Permission): Audience {
  if (resourceType === 'AuditEvent') {
    // The audit trail is append-only: nobody updates or deletes an AuditEvent through the API.
    // Only admins read it, and only admins may add events of their own (imported audit records).
    return permission === 'u' || permission === 'd' ? 'none' : 'admin';
  }
  return 'any';
}

/** True when the caller may perform `permission` on `resourceType`. */
export function isAllowed(ctx: RequestContext, resourceType: string, permission: Permission): boolean {
  const audience = audienceOf(resourceType, permission);
  if (audience === 'none' || (audience === 'admin' && !ctx.auth.admin)) return false;
  return ctx.auth.scopes.permits(resourceType, permission);
}

/** Throws 403 unless the caller may perform `permission` on `resourceType`. */
export function authorize(ctx: RequestContext, resourceType: string, permission: Permission): void {
  if (isAllowed(ctx, resourceType, permission)) return;
  if (resourceType === 'AuditEvent') {
    throw forbidden(permission === 'u' || permission === 'd'
      ? 'AuditEvents cannot be changed or deleted through the API'
      : 'Only admin clients may read or add AuditEvents');
  }
  throw forbidden(`The access token's scope does not allow ${VERBS[permission]} on ${resourceType}`);
}

/** Throws 403 when a client changes a DocumentReference, Binary or Subscription that another client created. */
export function authorizeOwnership(ctx: RequestContext, resourceType: string, createdBy: string | null | undefined): void {
  if (!OWNED_TYPES.has(resourceType) || !createdBy || ctx.auth.clientId === 'system') return;
  if (createdBy !== ctx.auth.clientId) throw forbidden(`Only the client that created this ${resourceType} may change or delete it`);
}

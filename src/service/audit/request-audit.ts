/**
 * The audit facts a request gathers while it runs: the action, the interaction and the resources
 * it touched. The service fills it in; the facade finishes it with the outcome. A write stores its
 * AuditEvent in its own transaction and marks the request `recorded`, so the facade does not
 * store a second one.
 */
import type { AuditAction } from './audit-event.ts';

export class RequestAudit {
  action: AuditAction = 'E';
  interaction = 'operation';
  readonly entities = new Set<string>();
  /** True once the request's AuditEvent has been stored (with a successful write). */
  recorded = false;
  /**
   * A failure the HTTP status does not show (a GraphQL answer is 200 even when a field was
   * refused): its status and description go into the AuditEvent instead.
   */
  failure: { status: number; description: string } | undefined;

  /** Names what the request does. */
  begin(action: AuditAction, interaction: string): void {
    this.action = action;
    this.interaction = interaction;
  }

  /** Adds a touched resource (`Patient/1`). */
  touch(reference: string): void {
    if (this.entities.size < 1000) this.entities.add(reference);
  }
}

/**
 * The audit facts a request gathers while it runs: the action, the interaction and the resources
 * it touched. The service fills it in; the facade finishes it with the outcome. A write stores its
 * AuditEvent in its own transaction and marks the request `recorded`, so the facade does not
 * store a second one.
 *
 * A GraphQL read is one IHE BALP "query" event (https://profiles.ihe.net/ITI/BALP/): once
 * {@link beginQuery} names its document, only the patients it touched are kept as entities, and
 * the document itself becomes the query entity, instead of every resource the answer holds.
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

  /**
   * A GraphQL read's document (the query entity of its BALP "query" event); set, only Patient
   * references are kept as entities.
   */
  query: string | undefined;

  /** Names what the request does (a query event keeps its name whatever the reads it runs). */
  begin(action: AuditAction, interaction: string): void {
    if (this.query !== undefined) return;
    this.action = action;
    this.interaction = interaction;
  }

  /** Names a read that audits as one BALP "query" event of `document` (a GraphQL query). */
  beginQuery(interaction: string, document: string): void {
    this.begin('R', interaction);
    this.query = document;
    for (const reference of this.entities) if (!reference.startsWith('Patient/')) this.entities.delete(reference);
  }

  /** Adds a touched resource (`Patient/1`); a query event keeps patients only. */
  touch(reference: string): void {
    if (this.entities.size < 1000 && (this.query === undefined || reference.startsWith('Patient/'))) this.entities.add(reference);
  }
}

/**
 * Reads the audit trail back as FHIR AuditEvents: a row of `audit_event` becomes the stored
 * version a read, search or history answers (version 1, `meta.lastUpdated` = `recorded`). The
 * server's own events are rebuilt from their facts with the very function that describes them
 * (`auditEventOf`), so an event read back is the event built when it was recorded; a posted one
 * is its stored JSON as it is.
 */
import { stringifyFhirJson } from '../../fhir/fhir-json.ts';
import { readAuditEvents, type AuditEventRow } from '../../store/audit-repository.ts';
import type { Queryable } from '../../store/database.ts';
import type { StoredVersion } from '../../store/resource-repository.ts';
import { buildStoredResource } from '../resource-content.ts';
import { auditEventOf, type AuditAction, type AuditFacts } from './audit-event.ts';

/** The facts a row of the server's own holds. */
function factsOf(row: AuditEventRow): AuditFacts {
  return {
    action: (row.action ?? 'E') as AuditAction,
    interaction: row.interaction ?? 'operation',
    recorded: row.recorded,
    outcome: row.outcome ?? '0',
    outcomeDesc: row.outcomeDesc ?? '',
    ...(row.clientId !== null ? { clientId: row.clientId } : {}),
    ...(row.claimedClientId !== null ? { claimedClientId: row.claimedClientId } : {}),
    agentDisplay: row.clientName ?? 'anonymous',
    ...(row.ip !== null ? { ip: row.ip } : {}),
    entities: row.entities,
    ...(row.entityDetail !== null ? { entityDetail: row.entityDetail } : {}),
    ...(row.query !== null ? { query: row.query } : {}),
  };
}

/** The stored version of an audit row: the one version an AuditEvent ever has. */
export function auditVersionOf(row: AuditEventRow): StoredVersion {
  const content = row.content ?? stringifyFhirJson(buildStoredResource(auditEventOf(factsOf(row)), row.id, 1, row.recorded));
  return { resourceType: 'AuditEvent', id: row.id, versionId: 1, lastUpdated: row.lastUpdated ?? row.recorded, deleted: false, content };
}

/** Reads AuditEvents by id as stored versions (missing ones are absent from the map). */
export async function readAuditVersions(q: Queryable, ids: readonly string[]): Promise<Map<string, StoredVersion>> {
  const rows = await readAuditEvents(q, ids);
  return new Map(rows.map((row) => [row.id, auditVersionOf(row)]));
}

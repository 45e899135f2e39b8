/**
 * Builds the FHIR `AuditEvent` of one API request (CONTRACT.md "Audit"): who (`agent`, the
 * client), what (`entity`, the resources touched), the action (C, R, U, D, E) and the outcome.
 * https://hl7.org/fhir/R4/auditevent.html
 */
import { randomUUID } from 'node:crypto';

export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

/** The facts of one audited request. */
export interface AuditRecord {
  action: AuditAction;
  /** A restful-interaction code (`read`, `create`, `transaction`, …) or `token`/`revoke`. */
  interaction: string;
  clientId?: string;
  clientName?: string;
  ip?: string;
  /** HTTP status of the answer. */
  status: number;
  description?: string;
  /** References of the resources touched (`Patient/1`). */
  entities: string[];
  recorded: Date;
}

const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const AUTH_INTERACTIONS: Record<string, { code: string; display: string }> = {
  token: { code: '110122', display: 'Login' },
  revoke: { code: '110123', display: 'Logout' },
  'token-refused': { code: '110122', display: 'Login' },
  'rate-limited': { code: '110122', display: 'Login' },
};

/** R4 AuditEvent.outcome: 0 success, 4 minor failure (client error), 8 serious failure. */
function outcomeCode(status: number): string {
  if (status < 400) return '0';
  return status < 500 ? '4' : '8';
}

/** Returns the AuditEvent resource (without id and meta) for a record. */
export function buildAuditEvent(record: AuditRecord): Record<string, unknown> & { resourceType: 'AuditEvent' } {
  const auth = AUTH_INTERACTIONS[record.interaction];
  const event: Record<string, unknown> & { resourceType: 'AuditEvent' } = {
    resourceType: 'AuditEvent',
    type: auth
      ? { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110114', display: 'User Authentication' }
      : { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [auth ? { system: 'http://dicom.nema.org/resources/ontology/DCM', ...auth } : { system: RESTFUL, code: record.interaction }],
    action: record.action,
    recorded: record.recorded.toISOString(),
    outcome: outcomeCode(record.status),
    outcomeDesc: record.description ? `${record.status} ${record.description}`.slice(0, 1000) : String(record.status),
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUT', display: 'author (originator)' }] },
        who: record.clientId
          ? { identifier: { system: 'urn:fhirgraph:client', value: record.clientId }, display: record.clientName ?? record.clientId }
          : { display: 'anonymous' },
        requestor: true,
        ...(record.ip ? { network: { address: record.ip, type: '2' } } : {}),
      },
    ],
    source: {
      observer: { display: 'fhirgraph' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
  };
  if (record.entities.length > 0) event.entity = record.entities.map((reference) => ({ what: { reference } }));
  return event;
}

/** A fresh id for an AuditEvent. */
export function newAuditId(): string {
  return randomUUID();
}

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
  /** The verified client (from its access token or its verified token-request credentials). */
  clientId?: string;
  clientName?: string;
  /**
   * The client id an unverified request only claimed (a token request's `client_id` or assertion
   * `iss`); recorded as such, never as that client. Not set together with `clientId`.
   */
  claimedClientId?: string;
  ip?: string;
  /** HTTP status of the answer. */
  status: number;
  description?: string;
  /** References of the resources touched (`Patient/1`). */
  entities: string[];
  /** Facts about the first entity (a webhook attempt's status code, latency, error), as its `detail`. */
  entityDetail?: Record<string, string>;
  /**
   * A read's query (a GraphQL document): the event is of the IHE BALP "query" kind, with the
   * query as an entity of its own (https://profiles.ihe.net/ITI/BALP/StructureDefinition-IHE.BasicAudit.Query.html).
   */
  query?: string;
  recorded: Date;
}

/** The longest query document an AuditEvent carries (characters; a longer one is cut). */
const MAX_QUERY = 64 * 1024;

/**
 * The `subtype` of a webhook delivery attempt's AuditEvent (its `type` is DICOM "Export": data
 * sent out of the server): `GET /fhir/AuditEvent?subtype=…|webhook-attempt` finds them.
 */
export const WEBHOOK_ATTEMPT_SUBTYPE = { system: 'https://fhirgraph.dev/CodeSystem/audit-subtype', code: 'webhook-attempt', display: 'Webhook delivery attempt' };

const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const AUTH_INTERACTIONS: Record<string, { code: string; display: string }> = {
  token: { code: '110122', display: 'Login' },
  revoke: { code: '110123', display: 'Logout' },
  'token-refused': { code: '110122', display: 'Login' },
  'rate-limited': { code: '110122', display: 'Login' },
};

/**
 * Control characters (all below U+0020 except tab, CR and LF, which FHIR strings allow, and DEL)
 * and UTF-16 surrogates that are not part of a pair. Descriptions quote what a request sent, and
 * neither FHIR strings (https://hl7.org/fhir/R4/datatypes.html#string) nor PostgreSQL text and
 * jsonb (which refuse U+0000) can hold them.
 */
const UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` without {@link UNSAFE} characters, cut to at most `max` UTF-16 units without splitting a pair. */
export function cleanAuditText(text: string, max = 1000): string {
  return text.slice(0, max).replace(UNSAFE, '');
}

/**
 * R4 AuditEvent.outcome: 0 success, 4 minor failure (client error), 8 serious failure. A status
 * below 100 stands for no answer at all (a webhook endpoint that could not be reached).
 */
function outcomeCode(status: number): string {
  if (status < 100) return '8';
  if (status < 400) return '0';
  return status < 500 ? '4' : '8';
}

/** `outcomeDesc`: the status and the description (a status below 100, no answer, is left out). */
function describeOutcome(record: AuditRecord): string {
  if (record.status < 100) return cleanAuditText(record.description ?? 'no answer');
  return record.description ? cleanAuditText(`${record.status} ${record.description}`) : String(record.status);
}

/** `type` and `subtype` of an interaction. */
function typeOf(interaction: string): { type: Record<string, string>; subtype: Record<string, string> } {
  const auth = AUTH_INTERACTIONS[interaction];
  if (auth) return { type: { system: DCM, code: '110114', display: 'User Authentication' }, subtype: { system: DCM, ...auth } };
  if (interaction === 'webhook') return { type: { system: DCM, code: '110106', display: 'Export' }, subtype: WEBHOOK_ATTEMPT_SUBTYPE };
  return { type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' }, subtype: { system: RESTFUL, code: interaction } };
}

/**
 * The agent: a verified client by its id; an unverified request by the client it claimed, marked
 * as unverified and without an identifier, so it is never found or counted as that client.
 */
function whoOf(record: AuditRecord): Record<string, unknown> {
  if (record.clientId) {
    return { identifier: { system: 'urn:fhirgraph:client', value: record.clientId }, display: cleanAuditText(record.clientName ?? record.clientId, 200) };
  }
  if (record.claimedClientId) return { display: `unverified request claiming client "${cleanAuditText(record.claimedClientId, 100)}"` };
  return { display: 'anonymous' };
}

/**
 * What an AuditEvent of the server's own is built from, every text already cleaned: the columns
 * `audit_event` stores (src/store/audit-repository.ts), so the event read back is the event built.
 */
export interface AuditFacts {
  action: AuditAction;
  interaction: string;
  recorded: Date;
  /** `outcome` (0, 4, 8) and `outcomeDesc`. */
  outcome: string;
  outcomeDesc: string;
  /** The verified client's id (the agent's identifier); absent for an unverified request. */
  clientId?: string;
  /** The client id an unverified request claimed, cleaned (kept for the record, never searched as a client). */
  claimedClientId?: string;
  /** The agent's `who.display`. */
  agentDisplay: string;
  ip?: string;
  entities: string[];
  /** The first entity's `detail`, in order. */
  entityDetail?: { type: string; valueString: string }[];
  /** The query entity's `query`: base64 of the query document. */
  query?: string;
}

/** The facts of a record, cleaned as the AuditEvent carries them. */
export function auditFactsOf(record: AuditRecord): AuditFacts {
  const who = whoOf(record);
  const detail = Object.entries(record.entityDetail ?? {}).map(([name, value]) => ({ type: name, valueString: cleanAuditText(value, 500) }));
  return {
    action: record.action,
    interaction: record.interaction,
    recorded: record.recorded,
    outcome: outcomeCode(record.status),
    outcomeDesc: describeOutcome(record),
    ...(record.clientId ? { clientId: record.clientId } : {}),
    ...(!record.clientId && record.claimedClientId ? { claimedClientId: cleanAuditText(record.claimedClientId, 100) } : {}),
    agentDisplay: who.display as string,
    ...(record.ip ? { ip: record.ip } : {}),
    entities: record.entities,
    ...(detail.length > 0 ? { entityDetail: detail } : {}),
    ...(record.query !== undefined ? { query: Buffer.from(record.query.slice(0, MAX_QUERY), 'utf8').toString('base64') } : {}),
  };
}

/** The BALP query entity: a system object in the role of a query, the document as base64. */
function queryEntity(query: string): Record<string, unknown> {
  return {
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
    role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' },
    query,
  };
}

/** The `type` and `subtype` codings of an interaction (the columns AuditEvent searches by `type` and `subtype`). */
export function auditTypeOf(interaction: string): { type: Record<string, string>; subtype: Record<string, string> } {
  return typeOf(interaction);
}

/** Returns the AuditEvent resource (without id and meta) for a record. */
export function buildAuditEvent(record: AuditRecord): Record<string, unknown> & { resourceType: 'AuditEvent' } {
  return auditEventOf(auditFactsOf(record));
}

/** Returns the AuditEvent resource (without id and meta) built from its facts. */
export function auditEventOf(facts: AuditFacts): Record<string, unknown> & { resourceType: 'AuditEvent' } {
  const { type, subtype } = typeOf(facts.interaction);
  const who = facts.clientId
    ? { identifier: { system: 'urn:fhirgraph:client', value: facts.clientId }, display: facts.agentDisplay }
    : { display: facts.agentDisplay };
  const event: Record<string, unknown> & { resourceType: 'AuditEvent' } = {
    resourceType: 'AuditEvent',
    type,
    subtype: [subtype],
    action: facts.action,
    recorded: facts.recorded.toISOString(),
    outcome: facts.outcome,
    outcomeDesc: facts.outcomeDesc,
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUT', display: 'author (originator)' }] },
        who,
        requestor: true,
        ...(facts.ip ? { network: { address: facts.ip, type: '2' } } : {}),
      },
    ],
    source: {
      observer: { display: 'fhirgraph' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
  };
  if (facts.entities.length > 0) {
    const detail = facts.entityDetail ?? [];
    event.entity = facts.entities.map((reference, i) => ({ what: { reference }, ...(i === 0 && detail.length > 0 ? { detail } : {}) }));
  }
  if (facts.query !== undefined) event.entity = [...(event.entity as unknown[] | undefined ?? []), queryEntity(facts.query)];
  return event;
}

/** A fresh id for an AuditEvent. */
export function newAuditId(): string {
  return randomUUID();
}

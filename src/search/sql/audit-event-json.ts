/**
 * SQL text that turns a row `a` of the audit trail's table (`audit_event`, migration 0010) into
 * its FHIR AuditEvent JSON inside PostgreSQL, for the answers PostgreSQL writes itself (Bulk Data
 * export pages, `$everything` pages). Pure text, like the rest of src/search/sql.
 */
/**
 * The FHIR JSON of an `audit_event` row `a`: a posted event's stored JSON, else the server's own
 * event built member by member in the order `auditEventOf` (src/service/audit/audit-event.ts)
 * builds it, so an exported event equals the one read back (src/service/audit/audit-projection.ts).
 */
export const AUDIT_EVENT_JSON = `CASE WHEN a.content IS NOT NULL THEN a.content::text ELSE json_strip_nulls(json_build_object(
  'resourceType', 'AuditEvent', 'id', a.id,
  'meta', json_build_object('versionId', '1', 'lastUpdated', to_char(a.recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
  'type', json_build_object('system', a.type_system, 'code', a.type_code,
    'display', CASE a.type_code WHEN '110114' THEN 'User Authentication' WHEN '110106' THEN 'Export' WHEN 'rest' THEN 'RESTful Operation' END),
  'subtype', json_build_array(json_build_object('system', a.subtype_system, 'code', a.subtype_code,
    'display', CASE WHEN a.type_code = 'rest' THEN NULL WHEN a.subtype_code = '110122' THEN 'Login' WHEN a.subtype_code = '110123' THEN 'Logout'
      WHEN a.subtype_code = 'webhook-attempt' THEN 'Webhook delivery attempt' END)),
  'action', a.action, 'recorded', to_char(a.recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'outcome', a.outcome, 'outcomeDesc', a.description,
  'agent', json_build_array(json_build_object(
    'type', json_build_object('coding', json_build_array(json_build_object(
      'system', 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', 'code', 'AUT', 'display', 'author (originator)'))),
    'who', json_build_object('identifier', CASE WHEN a.client_id IS NOT NULL THEN json_build_object('system', 'urn:fhirgraph:client', 'value', a.client_id) END,
      'display', a.client_name),
    'requestor', true,
    'network', CASE WHEN a.ip IS NOT NULL THEN json_build_object('address', a.ip, 'type', '2') END)),
  'source', json_build_object('observer', json_build_object('display', 'fhirgraph'), 'type', json_build_array(json_build_object(
    'system', 'http://terminology.hl7.org/CodeSystem/security-source-type', 'code', '4', 'display', 'Application Server'))),
  'entity', (SELECT json_agg(x.e ORDER BY x.n) FROM (
      SELECT json_build_object('what', json_build_object('reference', u.ref), 'detail', CASE WHEN u.n = 1 THEN a.entity_detail END) AS e, u.n
        FROM unnest(a.entities) WITH ORDINALITY AS u(ref, n)
      UNION ALL
      SELECT json_build_object(
          'type', json_build_object('system', 'http://terminology.hl7.org/CodeSystem/audit-entity-type', 'code', '2', 'display', 'System Object'),
          'role', json_build_object('system', 'http://terminology.hl7.org/CodeSystem/object-role', 'code', '24', 'display', 'Query'),
          'query', a.query), cardinality(a.entities) + 1
       WHERE a.query IS NOT NULL) x)
))::text END`;


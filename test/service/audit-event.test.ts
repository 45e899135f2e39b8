import { describe, expect, it } from 'vitest';
import { validateResource } from '../../src/fhir/validate-resource.ts';
import { buildAuditEvent } from '../../src/service/audit/audit-event.ts';

describe('AuditEvent resources the server writes', () => {
  it('are valid R4 for a REST interaction, a token issue and an anonymous refusal', () => {
    const base = { recorded: new Date(), entities: [] as string[] };
    const events = [
      buildAuditEvent({ ...base, action: 'R', interaction: 'read', clientId: 'c1', clientName: 'Lab', ip: '127.0.0.1', status: 200, entities: ['Patient/1'] }),
      buildAuditEvent({ ...base, action: 'E', interaction: 'token', clientId: 'c1', status: 200, description: 'token issued' }),
      buildAuditEvent({ ...base, action: 'E', interaction: 'token-refused', ip: '::1', status: 401, description: 'access token refused: missing' }),
      buildAuditEvent({ ...base, action: 'C', interaction: 'transaction', clientId: 'c2', status: 500 }),
    ];
    for (const event of events) expect(validateResource(event, 'AuditEvent')).toEqual([]);
    expect(events[0]).toMatchObject({ action: 'R', outcome: '0', entity: [{ what: { reference: 'Patient/1' } }] });
    expect(events[2]).toMatchObject({ outcome: '4', agent: [{ who: { display: 'anonymous' } }] });
    expect(events[3].outcome).toBe('8');
  });
});

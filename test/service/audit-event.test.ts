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

  it('strip NUL and other control characters, and lone surrogates, from what a request put in them (issue 14)', () => {
    const event = buildAuditEvent({
      recorded: new Date(), entities: [], action: 'E', interaction: 'token', ip: '127.0.0.1', status: 400,
      claimedClientId: 'evil\u0000client\u001b[31m', description: `token refused: grant_type "a\u0000b\u0007c\td\ud800e" ${'x'.repeat(990)}\ud83d\ude00`,
    });
    const text = JSON.stringify(event);
    expect(text).not.toMatch(/\\u00(0[0-8bcef]|1[0-9a-f]|7f)/);
    expect(event.outcomeDesc).toMatch(/^400 token refused: grant_type "abc\tde" x+$/);
    expect(event.agent).toMatchObject([{ who: { display: 'unverified request claiming client "evilclient[31m"' } }]);
    expect((event.agent as any)[0].who.identifier).toBeUndefined();
    expect(validateResource(event, 'AuditEvent')).toEqual([]);
  });

  it('are valid R4 for webhook delivery attempts, with the attempt facts on the Subscription entity', () => {
    const attempt = {
      recorded: new Date(), action: 'E' as const, interaction: 'webhook', clientId: 'c1', clientName: 'Integrator',
      entities: ['Subscription/s1', 'Observation/o1'], entityDetail: { statusCode: '200', latencyMs: '12', attempt: '1' },
    };
    const delivered = buildAuditEvent({ ...attempt, status: 200, description: 'delivered: the endpoint answered HTTP 200 in 12 ms (attempt 1)' });
    const unreachable = buildAuditEvent({ ...attempt, status: 0, description: 'not delivered: connection failed (ECONNREFUSED) after 2 ms (attempt 1)' });
    for (const event of [delivered, unreachable]) expect(validateResource(event, 'AuditEvent')).toEqual([]);
    expect(delivered).toMatchObject({
      outcome: '0', type: { code: '110106', display: 'Export' }, subtype: [{ code: 'webhook-attempt' }],
      entity: [{ what: { reference: 'Subscription/s1' }, detail: [{ type: 'statusCode', valueString: '200' }, { type: 'latencyMs', valueString: '12' }, { type: 'attempt', valueString: '1' }] }, { what: { reference: 'Observation/o1' } }],
    });
    expect(unreachable).toMatchObject({ outcome: '8', outcomeDesc: 'not delivered: connection failed (ECONNREFUSED) after 2 ms (attempt 1)' });
  });
});

import { describe, expect, it } from 'vitest';
import { FhirError } from '../../../src/fhir/outcomes.ts';
import { readRestHookChannel, takeSecret } from '../../../src/service/subscription/rest-hook-channel.ts';

const base = (channel: Record<string, unknown>) => ({ resourceType: 'Subscription', status: 'requested', criteria: 'Observation?code=x', channel });

function problem(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof FhirError) return `${err.status} ${err.outcome.issue[0].expression?.[0]}: ${err.outcome.issue[0].diagnostics}`;
    throw err;
  }
  return 'none';
}

describe('a rest-hook channel', () => {
  it('takes the secret out of channel.header: set, kept when absent, cleared by an empty value', () => {
    const secret = 'a-secret-of-sufficient-length';
    const set = takeSecret(base({ type: 'rest-hook', endpoint: 'https://e.org', header: [`x-fhirgraph-secret: ${secret}`, 'X-Team: blue'] }));
    expect(set.secret).toEqual({ kind: 'set', value: secret });
    expect((set.resource.channel as { header: string[] }).header).toEqual(['X-Team: blue']);
    const only = takeSecret(base({ type: 'rest-hook', endpoint: 'https://e.org', header: [`X-Fhirgraph-Secret: ${secret}`] }));
    expect(only.resource.channel).toEqual({ type: 'rest-hook', endpoint: 'https://e.org' });
    expect(takeSecret(base({ type: 'rest-hook', endpoint: 'https://e.org' })).secret).toEqual({ kind: 'keep' });
    expect(takeSecret(base({ type: 'rest-hook', endpoint: 'https://e.org', header: ['X-Fhirgraph-Secret:'] })).secret).toEqual({ kind: 'clear' });
    expect(problem(() => takeSecret(base({ type: 'rest-hook', header: ['X-Fhirgraph-Secret: short'] })))).toMatch(/^422 Subscription.channel.header/);
    expect(problem(() => takeSecret(base({ type: 'rest-hook', header: [`X-Fhirgraph-Secret: ${secret}`, `X-Fhirgraph-Secret: ${secret}`] })))).toMatch(/once/);
  });

  it('reads the endpoint, headers and payload, refusing what it cannot send', () => {
    const channel = readRestHookChannel(base({ type: 'rest-hook', endpoint: 'https://e.org/in', payload: 'application/fhir+json;fhirVersion=4.0', header: ['Authorization: Bearer x'] }), false);
    expect(channel).toMatchObject({ sendResource: true, headers: [['Authorization', 'Bearer x']] });
    expect(channel.endpoint.href).toBe('https://e.org/in');
    expect(readRestHookChannel(base({ type: 'rest-hook', endpoint: 'https://e.org/in' }), false).sendResource).toBe(false);
    expect(problem(() => readRestHookChannel(base({ type: 'rest-hook' }), false))).toMatch(/^422 Subscription.channel.endpoint/);
    expect(problem(() => readRestHookChannel(base({ type: 'rest-hook', endpoint: 'https://e.org', payload: 'text/plain' }), false))).toMatch(/^422 Subscription.channel.payload/);
    for (const header of ['NoColon', 'Bad Name: x', 'X-A: a\nb', 'Content-Length: 5', 'Transfer-Encoding: chunked', 'X-Fhirgraph-Event-Id: forged', 'Proxy-Authorization: x']) {
      expect(problem(() => readRestHookChannel(base({ type: 'rest-hook', endpoint: 'https://e.org', header: [header] }), false)), header).toMatch(/^422 Subscription.channel.header\[0\]/);
    }
  });
});

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ScopeSet } from '../../src/auth/scopes.ts';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { encodeCursor } from '../../src/changes/index.ts';
import { parseSubscriptionCriteria } from '../../src/service/subscription/subscription-write.ts';
import { retryDelayMs, isGivenUp } from '../../src/webhooks/retry-policy.ts';
import { buildWebhookRequest } from '../../src/webhooks/webhook-request.ts';
import type { WebhookSubscription } from '../../src/webhooks/webhook-subscription.ts';

const subscription = (over: Partial<WebhookSubscription> = {}): WebhookSubscription => ({
  id: 'sub-1', versionId: 2, changeSeq: '1', status: 'active', failures: 0,
  criteria: parseSubscriptionCriteria({ resourceType: 'Subscription', criteria: 'Observation?code=x' }, DEFAULT_LIMITS.search, 'http://h/fhir'),
  channel: { endpoint: new URL('https://e.org/in'), headers: [['Authorization', 'Bearer t']], sendResource: true },
  author: { clientId: 'c', scopes: new ScopeSet('system/*.rs') },
  secret: 'the-secret-of-the-test',
  ...over,
});
const job = { subscriptionId: 'sub-1', position: 42, resourceType: 'Observation', id: 'o1', versionId: 3, action: 'update' as const, attempt: 2 };

describe('a webhook request', () => {
  it('carries the channel headers, the event headers, the version as body and its HMAC signature', () => {
    const content = '{"resourceType":"Observation","id":"o1","value":1.50}';
    const { headers, body } = buildWebhookRequest(subscription(), job, content);
    expect(body.toString()).toBe(content);
    expect(headers).toMatchObject({
      authorization: 'Bearer t', 'content-type': 'application/fhir+json', 'x-fhirgraph-event-id': `sub-1.${encodeCursor(42)}`,
      'x-fhirgraph-event-cursor': encodeCursor(42), 'x-fhirgraph-action': 'update', 'x-fhirgraph-resource': 'Observation/o1/_history/3',
      'x-fhirgraph-subscription': 'Subscription/sub-1', 'x-fhirgraph-attempt': '2',
      'x-fhirgraph-signature': `sha256=${createHmac('sha256', 'the-secret-of-the-test').update(content).digest('hex')}`,
    });
  });

  it('sends no body for deletes or without payload, and no signature without a secret', () => {
    const deleted = buildWebhookRequest(subscription(), { ...job, action: 'delete' }, undefined);
    expect(deleted.body.length).toBe(0);
    expect(deleted.headers['content-type']).toBeUndefined();
    expect(deleted.headers['x-fhirgraph-signature']).toBe(`sha256=${createHmac('sha256', 'the-secret-of-the-test').update('').digest('hex')}`);
    const bare = buildWebhookRequest(subscription({ secret: null, channel: { endpoint: new URL('https://e.org'), headers: [], sendResource: false } }), job, '{}');
    expect(bare.body.length).toBe(0);
    expect(bare.headers['x-fhirgraph-signature']).toBeUndefined();
  });
});

describe('the retry policy', () => {
  it('backs off exponentially with equal jitter, capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, 60_000, () => 0))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, 60_000, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000]);
    expect(retryDelayMs(40, 60_000, () => 1)).toBe(60_000);
    expect(isGivenUp(0, 3_600_001, 3_600_000)).toBe(true);
    expect(isGivenUp(0, 3_600_000, 3_600_000)).toBe(false);
  });
});

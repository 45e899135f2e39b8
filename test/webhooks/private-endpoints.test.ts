/**
 * Webhook endpoints without `WEBHOOK_ALLOW_PRIVATE` (the production default): loopback, private
 * and link-local addresses are refused when a Subscription is written, and a host name is
 * checked again on the address it resolves to at each delivery, which then goes to that address
 * only — so a name that resolves to this machine is never delivered to.
 */
import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPrivateAddress } from '../../src/service/subscription/endpoint-address.ts';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let receiver: WebhookReceiver;
/** This machine's host name when it resolves only to non-public addresses (as it does in containers and CI). */
let localName: string | undefined;

const SYSTEM = 'urn:test:private';

function subscription(endpoint: string, code: string): Record<string, unknown> {
  return {
    resourceType: 'Subscription', status: 'requested', reason: 'private', criteria: `Observation?code=${SYSTEM}|${code}`,
    channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' },
  };
}

beforeAll(async () => {
  receiver = await startReceiver();
  t = await startTestServer({ webhookAllowPrivate: false, webhooks: { timeoutMs: 2_000, retryPeriodMs: 600_000, retryMaxDelayMs: 2_000, concurrency: 4 } });
  const addresses = await lookup(os.hostname(), { all: true }).catch(() => []);
  if (addresses.length > 0 && addresses.every((a) => isPrivateAddress(a.address))) localName = os.hostname();
}, 120_000);

afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

describe('without WEBHOOK_ALLOW_PRIVATE', () => {
  it('refuses loopback, private and link-local endpoints when the Subscription is written', async () => {
    for (const endpoint of [
      receiver.url, 'http://10.1.2.3/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:8080/hook', 'http://[fd00::1]/hook',
      'http://0x7f.1/hook', 'http://localhost:9/hook', 'https://api.localhost/hook', 'http://[::ffff:192.168.0.1]/hook',
    ]) {
      const answer = await fhirFetch(`${t.url}/fhir/Subscription`, { method: 'POST', body: subscription(endpoint, 'x') });
      expect(answer.status, `${endpoint}: ${answer.text}`).toBe(422);
      expect(answer.body.issue[0].diagnostics).toMatch(/WEBHOOK_ALLOW_PRIVATE/);
      expect(answer.body.issue[0].expression).toEqual(['Subscription.channel.endpoint']);
    }
    const publicOne = await fhirFetch(`${t.url}/fhir/Subscription`, { method: 'POST', body: subscription('https://hooks.example.org/in', 'x') });
    expect(publicOne.status, publicOne.text).toBe(201);
  });

  it('refuses at delivery a host name that resolves to a loopback or private address, and logs why', async (context) => {
    if (!localName) context.skip(); // this machine's name resolves to a public address: nothing to rebind
    const code = `c-${randomUUID()}`;
    const created = await fhirFetch(`${t.url}/fhir/Subscription`, { method: 'POST', body: subscription(`http://${localName}:${receiver.port}/rebound`, code) });
    expect(created.status, created.text).toBe(201); // a name is resolved only when delivering
    const id = created.body.id;
    for (let i = 0; i < 300 && (await fhirFetch(`${t.url}/fhir/Subscription/${id}`)).body.status !== 'active'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const observation = await fhirFetch(`${t.url}/fhir/Observation`, {
      method: 'POST', body: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: SYSTEM, code }] } },
    });
    expect(observation.status).toBe(201);
    let attempts: any[] = [];
    for (let i = 0; i < 300 && attempts.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const log = await fhirFetch(`${t.url}/fhir/AuditEvent?entity=Subscription/${id}&subtype=https://fhirgraph.dev/CodeSystem/audit-subtype|webhook-attempt`);
      attempts = (log.body.entry ?? []).map((e: any) => e.resource);
    }
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts[0].outcome).toBe('8');
    expect(attempts[0].outcomeDesc).toMatch(new RegExp(`not delivered: ${localName} resolves to .*loopback, private or link-local`));
    expect(receiver.received).toEqual([]);
  });
});

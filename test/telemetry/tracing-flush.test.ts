/**
 * Issue 19: spans still queued when the server stops are exported before it is down: with a
 * batch delay of ten minutes, the one request's span reaches the collector only through close().
 * The default encoding (OTLP/HTTP protobuf, as the SDK's) is the one sent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer } from '../helpers/test-server.ts';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

let collector: WebhookReceiver | undefined;

afterAll(async () => {
  await collector?.close();
});

describe('tracing shutdown', () => {
  it('flushes the queued spans when the server closes, as OTLP/HTTP protobuf by default', async () => {
    collector = await startReceiver();
    const t = await startTestServer({ otel: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/otlp/traces`, OTEL_BSP_SCHEDULE_DELAY: '600000' } });
    const res = await fhirFetch(`${t.url}/fhir/Patient?_count=1`, { headers: { 'x-request-id': 'flush-1' } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(collector.on('/otlp/traces')).toEqual([]);
    await t.close();
    const exports = collector.on('/otlp/traces');
    expect(exports.length).toBeGreaterThan(0);
    expect(exports[0].headers['content-type']).toBe('application/x-protobuf');
    // The protobuf carries the span name as plain bytes.
    expect(exports.map((e) => e.body).join('')).toContain('GET /fhir/:type');
  }, 120_000);
});

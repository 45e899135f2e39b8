/**
 * Issue 19: OpenTelemetry traces over OTLP/HTTP, on because the test sets
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (JSON encoding, a short batch delay). A plain HTTP receiver on
 * loopback gets the spans of a REST search, a GraphQL operation and a webhook delivery: the
 * server span continues the caller's `traceparent`, statements are children of the request (or
 * of the GraphQL operation), the endpoint gets the delivery's `traceparent`, and no span holds a
 * value the client sent (the family name searched for, the GraphQL variables and literals).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

interface OtlpValue { stringValue?: string; intValue?: string | number; boolValue?: boolean }
interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}

let collector: WebhookReceiver;
let hooks: WebhookReceiver;
let t: TestServer;
const family = `Zyxtracefamily${randomUUID().replaceAll('-', '')}`;
const literalFamily = `Qwvliteralfamily${randomUUID().replaceAll('-', '')}`;

beforeAll(async () => {
  collector = await startReceiver();
  hooks = await startReceiver();
  t = await startTestServer({
    webhookAllowPrivate: true,
    otel: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_SERVICE_NAME: 'fhirgraph-test' },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
  await collector?.close();
  await hooks?.close();
});

/** Every span the collector has received so far. */
function exported(): OtlpSpan[] {
  return collector.on('/v1/traces').flatMap((r) => {
    const body = JSON.parse(r.body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
    return body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  });
}

function attribute(span: OtlpSpan, key: string): string | number | boolean | undefined {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  return value.stringValue ?? (value.intValue === undefined ? value.boolValue : Number(value.intValue));
}

async function spanWhere(test: (s: OtlpSpan) => boolean, what: string): Promise<OtlpSpan> {
  await collector.waitUntil(() => exported().some(test), 20_000, what);
  return exported().find(test)!;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('OpenTelemetry traces', () => {
  it('exports a REST request as a server span continuing the caller\'s traceparent, with its statements as children', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family }] } });
    expect(created.status).toBe(201);
    const traceId = hex(16);
    const callerSpan = hex(8);
    const search = await fhirFetch(`${t.url}/fhir/Patient?family=${family}`, { headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
    expect(search.status).toBe(200);
    expect(search.body.total ?? search.body.entry?.length).toBe(1);

    const server = await spanWhere((s) => s.traceId === traceId && s.kind === 2, 'the search\'s server span');
    expect(server.parentSpanId).toBe(callerSpan);
    expect(server.name).toBe(`GET ${attribute(server, 'http.route')}`);
    expect(attribute(server, 'http.route')).toMatch(/^\/fhir\/:\w+$/);
    expect(attribute(server, 'http.request.method')).toBe('GET');
    expect(attribute(server, 'http.response.status_code')).toBe(200);

    await spanWhere((s) => s.traceId === traceId && s.parentSpanId === server.spanId && attribute(s, 'db.system.name') === 'postgresql', 'a statement of the search');
    const statements = exported().filter((s) => s.parentSpanId === server.spanId);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.traceId).toBe(traceId);
      expect(s.kind).toBe(3); // client
      expect(attribute(s, 'db.query.text')).toEqual(expect.any(String));
    }
    // The statement's text with its bind parameters, the values sent apart.
    expect(statements.some((s) => /FROM .*\$1/s.test(String(attribute(s, 'db.query.text'))))).toBe(true);
  });

  it('exports a GraphQL operation as a span named for its type and name, child of the request span and parent of its statements', async () => {
    const query = `query FindPatients($family: String) { PatientList(family: $family) { id } other: PatientList(family: "${literalFamily}") { id } }`;
    const res = await fhirFetch(`${t.url}/graphql`, { method: 'POST', body: { query, variables: { family } }, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.PatientList).toHaveLength(1);

    const operation = await spanWhere((s) => s.name === 'query FindPatients', 'the GraphQL operation span');
    expect(attribute(operation, 'graphql.operation.type')).toBe('query');
    expect(attribute(operation, 'graphql.operation.name')).toBe('FindPatients');
    const server = exported().find((s) => s.spanId === operation.parentSpanId)
      ?? await spanWhere((s) => s.spanId === operation.parentSpanId, 'the GraphQL request span');
    expect(server.kind).toBe(2);
    expect(server.name).toBe('POST /graphql');
    expect(server.parentSpanId ?? '').toBe('');
    await spanWhere((s) => s.parentSpanId === operation.spanId && attribute(s, 'db.system.name') === 'postgresql', 'a statement of the operation');
  });

  it('sends a webhook delivery\'s traceparent to the endpoint, naming a span it exports', async () => {
    const subscription = await fhirFetch(`${t.url}/fhir/Subscription`, {
      method: 'POST',
      body: { resourceType: 'Subscription', status: 'requested', reason: 'tracing', criteria: `Patient?family=${family}`, channel: { type: 'rest-hook', endpoint: `${hooks.url}/hook`, payload: 'application/fhir+json' } },
    });
    expect(subscription.status).toBe(201);
    // The subscription turns active at the dispatcher's next round; a Patient written after that is delivered.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const read = await fhirFetch(`${t.url}/fhir/Subscription/${subscription.body.id}`);
      if (read.body.status === 'active') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family }] } });
    const delivery = await hooks.waitFor((r) => r.path === '/hook', 20_000, 'the delivery');
    const traceparent = String(delivery.headers.traceparent);
    const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent) ?? [];
    expect(traceId).toBeDefined();
    const post = await spanWhere((s) => s.spanId === spanId, 'the delivery\'s span');
    expect(post.traceId).toBe(traceId);
    expect(post.name).toBe('POST webhook');
    expect(attribute(post, 'http.response.status_code')).toBe(200);
    const job = await spanWhere((s) => s.spanId === post.parentSpanId, 'the delivery job\'s span');
    expect(job.name).toBe('process webhook-delivery');
  });

  it('puts no value a client sent in any span', async () => {
    // Everything exported so far: the searches, the GraphQL variables and literals, the webhook's criteria.
    await new Promise((r) => setTimeout(r, 500));
    const text = collector.on('/v1/traces').map((r) => r.body).join('\n');
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(family);
    expect(text).not.toContain(literalFamily);
    expect(text).not.toContain(t.adminToken);
    expect(text).toContain('fhirgraph-test'); // the resource's service.name
  });
});

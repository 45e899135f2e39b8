/**
 * The standard OTEL_* variables (CONTRACT.md): traces are on only with an OTLP endpoint, off with
 * OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none; the endpoint, protocol, headers and batch
 * settings are read as the SDK reads them, and a value the server cannot serve stops start-up.
 */
import { describe, expect, it } from 'vitest';
import { readTracingSettings } from '../../src/telemetry/tracing/index.ts';

describe('OTEL_* settings', () => {
  it('is off without an endpoint, or when disabled', () => {
    expect(readTracingSettings({})).toBeUndefined();
    expect(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('reads the endpoint, protocol, headers, sampler and batch settings as the SDK does', () => {
    const base = readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })!;
    expect(base).toMatchObject({ url: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', sampler: 'parentbased_always_on', serviceName: 'fhirgraph' });
    expect(base.batch).toEqual({ scheduleDelayMs: 5000, exportTimeoutMs: 30000, maxQueueSize: 2048, maxExportBatchSize: 512 });
    const own = readTracingSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.org/in',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b,x=1', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x=2',
      OTEL_SERVICE_NAME: 'fg-eu', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_BSP_SCHEDULE_DELAY: '100',
    })!;
    expect(own).toMatchObject({
      url: 'https://traces.example.org/in', protocol: 'http/json', headers: { 'api-key': 'a b', x: '2' }, serviceName: 'fg-eu',
      resourceAttributes: { 'deployment.environment': 'prod' }, sampler: 'parentbased_traceidratio', samplerRatio: 0.25,
    });
    expect(own.batch.scheduleDelayMs).toBe(100);
  });

  it('refuses what it cannot serve', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(() => readTracingSettings({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/http\/protobuf or http\/json/);
    expect(() => readTracingSettings({ ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => readTracingSettings({ ...endpoint, OTEL_BSP_SCHEDULE_DELAY: 'soon' })).toThrow(/OTEL_BSP_SCHEDULE_DELAY/);
    expect(() => readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/http\(s\) URL/);
    expect(() => readTracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/otlp/);
  });
});

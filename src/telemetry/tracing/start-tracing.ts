/**
 * Starts the OpenTelemetry SDK when {@link readTracingSettings} says traces are on: a tracer
 * provider with the configured sampler and resource, a batch span processor, and the OTLP/HTTP
 * exporter of the configured encoding (protobuf by default, as the SDK's; JSON on request). The
 * SDK's modules are imported here, dynamically, so a server with tracing off never loads them.
 * The provider is not registered globally: the server's own call sites use it through
 * `active-tracing.ts`, and nothing else in the process is affected.
 * https://opentelemetry.io/docs/specs/otel/trace/sdk/
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import type { Context } from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import { activateTracing, deactivateTracing, type ActiveTracing } from './active-tracing.ts';
import { readTracingSettings, type TracingSettings } from './tracing-settings.ts';

/** What {@link startTracing} returns: `shutdown()` flushes the spans still queued, then stops. */
export interface RunningTracing {
  /** Whether spans are exported at all. */
  readonly on: boolean;
  shutdown(): Promise<void>;
}

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

const OFF: RunningTracing = { on: false, shutdown: async () => undefined };

async function buildSampler(settings: TracingSettings): Promise<Sampler> {
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = await import('@opentelemetry/sdk-trace-base');
  switch (settings.sampler) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return new TraceIdRatioBasedSampler(settings.samplerRatio);
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.samplerRatio) });
    default: {
      const unreachable: never = settings.sampler;
      throw new Error(`unknown sampler ${String(unreachable)}`);
    }
  }
}

async function buildExporter(settings: TracingSettings) {
  const options = { url: settings.url, headers: settings.headers, timeoutMillis: settings.timeoutMs };
  if (settings.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(options);
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(options);
}

/**
 * Starts tracing from the `OTEL_*` variables (`Config.otel`) and switches the server's spans on;
 * with no OTLP endpoint set (or the SDK disabled) does nothing and returns an off handle.
 */
export async function startTracing(otel: Readonly<Record<string, string | undefined>>): Promise<RunningTracing> {
  const settings = readTracingSettings(otel);
  if (!settings) return OFF;
  const [api, core, resources, sdk, semconv] = await Promise.all([
    import('@opentelemetry/api'), import('@opentelemetry/core'), import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/semantic-conventions'),
  ]);
  const resource = resources.defaultResource().merge(resources.resourceFromAttributes({
    ...settings.resourceAttributes,
    [semconv.ATTR_SERVICE_NAME]: settings.serviceName,
    [semconv.ATTR_SERVICE_VERSION]: version,
  }));
  const processor = new sdk.BatchSpanProcessor(await buildExporter(settings), {
    scheduledDelayMillis: settings.batch.scheduleDelayMs, exportTimeoutMillis: settings.batch.exportTimeoutMs,
    maxQueueSize: settings.batch.maxQueueSize, maxExportBatchSize: settings.batch.maxExportBatchSize,
  });
  const provider = new sdk.BasicTracerProvider({ resource, sampler: await buildSampler(settings), spanProcessors: [processor] });
  const tracing: ActiveTracing = {
    tracer: provider.getTracer('fhirgraph', version),
    storage: new AsyncLocalStorage<Context>(),
    propagator: new core.W3CTraceContextPropagator(),
    rootContext: api.ROOT_CONTEXT,
    setSpan: (context, span) => api.trace.setSpan(context, span),
    errorCode: api.SpanStatusCode.ERROR,
    kinds: { server: api.SpanKind.SERVER, client: api.SpanKind.CLIENT, internal: api.SpanKind.INTERNAL, consumer: api.SpanKind.CONSUMER },
  };
  activateTracing(tracing);
  return {
    on: true,
    shutdown: async () => {
      deactivateTracing(tracing);
      await provider.shutdown();
    },
  };
}

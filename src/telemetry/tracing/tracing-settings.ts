/**
 * Whether traces go out, and where: the standard OpenTelemetry SDK variables, read from the
 * `OTEL_*` subset of the environment that `config.ts` passes down. Tracing is on only when an
 * OTLP endpoint is set (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT`
 * plus `/v1/traces`) and neither `OTEL_SDK_DISABLED=true` nor `OTEL_TRACES_EXPORTER=none` says
 * otherwise; off, nothing of the SDK is loaded.
 * https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 * https://opentelemetry.io/docs/specs/otel/protocol/exporter/
 */

/** The OTLP/HTTP encodings (`OTEL_EXPORTER_OTLP_PROTOCOL`); `grpc` is not served. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** The samplers of `OTEL_TRACES_SAMPLER` the server offers. */
export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

const SAMPLERS = new Set<string>(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']);

/** What the exporter, the batch processor, the sampler and the resource are built from. */
export interface TracingSettings {
  /** The full URL spans are POSTed to. */
  url: string;
  protocol: OtlpProtocol;
  /** `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`, decoded (may hold credentials: never log them). */
  headers: Record<string, string>;
  timeoutMs: number;
  serviceName: string;
  /** `OTEL_RESOURCE_ATTRIBUTES`, decoded. */
  resourceAttributes: Record<string, string>;
  sampler: SamplerName;
  samplerRatio: number;
  /** `OTEL_BSP_*`. */
  batch: { scheduleDelayMs: number; exportTimeoutMs: number; maxQueueSize: number; maxExportBatchSize: number };
}

type OtelEnv = Readonly<Record<string, string | undefined>>;

function readNumber(env: OtelEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number of at least ${min}, got "${raw}"`);
  return value;
}

/** `key1=value1,key2=value2`, each part percent-decoded (the W3C Baggage form the spec uses). */
function readPairs(env: OtelEnv, name: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const part of (env[name] ?? '').split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    try {
      pairs[decodeURIComponent(part.slice(0, at).trim())] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      throw new Error(`${name} holds a malformed percent-encoding`);
    }
  }
  return pairs;
}

/** The traces URL: the signal's own endpoint as given, else the base endpoint plus `v1/traces`. */
function tracesUrl(env: OtelEnv): string | undefined {
  const own = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = own || (base ? `${base.endsWith('/') ? base.slice(0, -1) : base}/v1/traces` : undefined);
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT must be an http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT must be an http(s) URL');
  return url;
}

/**
 * Reads the settings; `undefined` when traces are off. Throws (at start-up) on a value the SDK
 * would reject or that the server does not serve (`grpc`, an unknown sampler).
 */
export function readTracingSettings(env: OtelEnv): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((e) => e.trim().toLowerCase()).filter(Boolean);
  if (exporters.length === 0 || exporters.includes('none')) return undefined;
  if (exporters.some((e) => e !== 'otlp')) throw new Error(`OTEL_TRACES_EXPORTER: only "otlp" and "none" are served, got "${env.OTEL_TRACES_EXPORTER}"`);
  const url = tracesUrl(env);
  if (url === undefined) return undefined;
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json, got "${protocol}"`);
  const sampler = (env.OTEL_TRACES_SAMPLER || 'parentbased_always_on').trim();
  if (!SAMPLERS.has(sampler)) throw new Error(`OTEL_TRACES_SAMPLER must be one of ${[...SAMPLERS].join(', ')}, got "${sampler}"`);
  const samplerRatio = sampler.endsWith('traceidratio') ? readNumber(env, 'OTEL_TRACES_SAMPLER_ARG', 1) : 1;
  if (samplerRatio > 1) throw new Error('OTEL_TRACES_SAMPLER_ARG must be between 0 and 1');
  const resourceAttributes = readPairs(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const maxQueueSize = readNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1);
  return {
    url,
    protocol,
    headers: { ...readPairs(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...readPairs(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') },
    timeoutMs: readNumber(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', readNumber(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 10_000, 1), 1),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || resourceAttributes['service.name'] || 'fhirgraph',
    resourceAttributes,
    sampler: sampler as SamplerName,
    samplerRatio,
    batch: {
      scheduleDelayMs: readNumber(env, 'OTEL_BSP_SCHEDULE_DELAY', 5_000),
      exportTimeoutMs: readNumber(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1),
      maxQueueSize,
      maxExportBatchSize: Math.min(maxQueueSize, readNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1)),
    },
  };
}

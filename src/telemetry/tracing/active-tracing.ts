/**
 * The process's tracing state and the one primitive every span of the server goes through. Off
 * (the default), {@link tracingOn} is `false` and nothing else here runs: call sites test that one
 * live binding and take their untraced path, with no allocation and no SDK loaded. On, the current
 * span's context travels in an `AsyncLocalStorage` of our own (made only then), so the statements
 * a request sends become children of its span without a global context manager.
 * https://opentelemetry.io/docs/specs/otel/context/
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Attributes, Context, Span, SpanKind, TextMapGetter, TextMapPropagator, Tracer } from '@opentelemetry/api';

/** What {@link activateTracing} is given by `start-tracing.ts` (the SDK's objects, loaded dynamically). */
export interface ActiveTracing {
  tracer: Tracer;
  storage: AsyncLocalStorage<Context>;
  propagator: TextMapPropagator;
  rootContext: Context;
  /** `trace.setSpan` of the API. */
  setSpan(context: Context, span: Span): Context;
  /** `SpanStatusCode.ERROR`. */
  errorCode: number;
  kinds: { server: SpanKind; client: SpanKind; internal: SpanKind; consumer: SpanKind };
}

/** True while traces are exported: the one check a call site makes before anything else here. */
export let tracingOn = false;
let active: ActiveTracing | undefined;

/** Switches tracing on for the process (one exporter per process: the last server started wins). */
export function activateTracing(tracing: ActiveTracing): void {
  active = tracing;
  tracingOn = true;
}

/** Switches it off again (the server that started it is closing). */
export function deactivateTracing(tracing: ActiveTracing): void {
  if (active !== tracing) return;
  active = undefined;
  tracingOn = false;
}

/** The tracing state; call only when {@link tracingOn}. */
export function activeTracing(): ActiveTracing {
  if (!active) throw new Error('tracing is off');
  return active;
}

/** The context of the span under way, or the root. */
export function currentContext(tracing: ActiveTracing): Context {
  return tracing.storage.getStore() ?? tracing.rootContext;
}

/** How a span is named and what it records: never a value a client sent (DECISIONS.md: no PHI in telemetry). */
export interface SpanStart {
  name: string;
  kind: 'server' | 'client' | 'internal' | 'consumer';
  attributes?: Attributes;
}

/** Marks a span failed with the error's kind only: its message may quote what the client sent. */
export function recordFailure(tracing: ActiveTracing, span: Span, err: unknown): void {
  const status = (err as { status?: unknown })?.status;
  const code = (err as { code?: unknown })?.code;
  const type = typeof status === 'number' ? String(status) : typeof code === 'string' ? code : (err as Error)?.name ?? 'Error';
  span.setAttribute('error.type', type);
  span.setStatus({ code: tracing.errorCode });
}

/**
 * Runs `work` in a new child span of the current one (ended when it settles, marked failed when
 * it throws). Call only when {@link tracingOn}.
 */
export async function inSpan<T>(start: SpanStart, work: (span: Span) => Promise<T>): Promise<T> {
  const tracing = activeTracing();
  const parent = currentContext(tracing);
  const span = tracing.tracer.startSpan(start.name, { kind: tracing.kinds[start.kind], attributes: start.attributes }, parent);
  try {
    return await tracing.storage.run(tracing.setSpan(parent, span), () => work(span));
  } catch (err) {
    recordFailure(tracing, span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs `work` outside any span, as background work must even when a request starts it (a flush
 * scheduled from a handler is not part of that request's trace). Free when tracing is off.
 */
export function runOutsideSpans<T>(work: () => T): T {
  return active ? active.storage.exit(work) : work();
}

const headerSetter = { set: (carrier: Record<string, string>, key: string, value: string) => { carrier[key] = value; } };

/** Adds the current span's `traceparent` (and `tracestate`) to outgoing headers; nothing when off. */
export function injectTraceContext(headers: Record<string, string>): void {
  if (!active) return;
  active.propagator.inject(currentContext(active), headers, headerSetter);
}

/** Reads `traceparent` from incoming headers (Node's lower-cased header object). */
export const incomingHeaderGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

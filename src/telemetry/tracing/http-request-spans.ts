/**
 * The server span of each HTTP request, from Fastify's hooks: it continues the caller's trace
 * when the request carries a W3C `traceparent`, is named `METHOD /route/pattern`, and records the
 * method, the route pattern and the status: never the URL, its ids or its query string
 * (DECISIONS.md: route patterns, not URLs). The request's hooks and handler run in its context,
 * so the statements and GraphQL operation it causes become its children.
 * https://opentelemetry.io/docs/specs/semconv/http/http-spans/#http-server
 * https://www.w3.org/TR/trace-context/#traceparent-header
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { Context, Span } from '@opentelemetry/api';
import { activeTracing, incomingHeaderGetter, tracingOn } from './active-tracing.ts';

interface RequestSpan { span: Span; context: Context }

/**
 * Adds the request spans to `app` when tracing is on (nothing at all when off). Call it before
 * the routes are registered (their handlers are wrapped as they are) and before other
 * `onRequest` hooks (authentication runs inside the span).
 */
export function traceHttpRequests(app: FastifyInstance): void {
  if (!tracingOn) return;
  const tracing = activeTracing();
  const spans = new WeakMap<FastifyRequest, RequestSpan>();
  const end = (request: FastifyRequest, reply: FastifyReply) => {
    const started = spans.get(request);
    if (!started) return;
    spans.delete(request);
    const status = reply.statusCode;
    started.span.setAttribute('http.response.status_code', status);
    if (status >= 500) {
      started.span.setAttribute('error.type', String(status));
      started.span.setStatus({ code: tracing.errorCode });
    }
    started.span.end();
  };
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = tracing.propagator.extract(tracing.rootContext, request.headers, incomingHeaderGetter);
    const route = request.routeOptions.url;
    const attributes = route === undefined ? { 'http.request.method': request.method } : { 'http.request.method': request.method, 'http.route': route };
    const span = tracing.tracer.startSpan(route === undefined ? request.method : `${request.method} ${route}`, { kind: tracing.kinds.server, attributes }, parent);
    const context = tracing.setSpan(parent, span);
    spans.set(request, { span, context });
    tracing.storage.run(context, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const started = spans.get(request);
    if (started) {
      spans.delete(request);
      started.span.setAttribute('error.type', 'aborted');
      started.span.end();
    }
    done();
  });
  // A body arrives in the socket's context, so the handler is put back into the request's.
  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function tracedHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const started = spans.get(request);
      return started ? tracing.storage.run(started.context, () => handler.call(this, request, reply)) : handler.call(this, request, reply);
    } as RouteHandlerMethod;
  });
}

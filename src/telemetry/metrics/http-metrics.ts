/**
 * HTTP request durations by method, route pattern and status. The route is the pattern Fastify
 * matched (`/fhir/:type/:id`, with `:type` replaced by the resource type when it names one:
 * `/fhir/Patient/:id`), never the URL (DECISIONS.md: telemetry never carries PHI); a request that
 * matched no route is `(unmatched)`. Histogram children are cached per label set, so recording a
 * request allocates nothing once its label set has been seen ({@link CompactHistogram}).
 * https://prometheus.io/docs/practices/histograms/
 */
import type { Registry } from 'prom-client';
import { CompactHistogram, type HistogramSeries } from './compact-histogram.ts';
import type { SecurityMetrics } from './security-metrics.ts';

/** The route label of a request no route matched (404 before routing, a 414, a broken URL). */
export const UNMATCHED_ROUTE = '(unmatched)';

/** Buckets in seconds, from a cached read (1 ms) to a large Bundle (10 s). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Path parameters of a route that hold a resource type (`/fhir/:type`, `/fhir/:compartment/:id/:type`). */
const TYPE_PARAMS = ['type', 'compartment'] as const;

/** Records HTTP requests; see the module comment. */
export class HttpMetrics {
  private readonly duration: CompactHistogram;
  /** route label → method → status → its series. */
  private readonly children = new Map<string, Map<string, Map<number, HistogramSeries>>>();
  /** route pattern → parameter → resource type → label (`/fhir/:type/:id` → type → Patient → `/fhir/Patient/:id`). */
  private readonly typedRoutes = new Map<string, Map<string, Map<string, string>>>();
  private isResourceType: (type: string) => boolean = () => false;

  constructor(registry: Registry, private readonly security: SecurityMetrics) {
    this.duration = new CompactHistogram(
      'fhirgraph_http_request_duration_seconds', 'HTTP requests of the API, by method, route pattern and status code.', DURATION_BUCKETS, registry,
    );
  }

  /** Names the resource types, so `/fhir/:type/:id` is labelled per type (a bounded set: the model's). */
  useResourceTypes(isResourceType: (type: string) => boolean): void {
    this.isResourceType = isResourceType;
  }

  /**
   * Records one answered request: `pattern` is Fastify's `routeOptions.url` (undefined when no
   * route matched), `params` its path parameters. A 429 is also counted as a rate-limit
   * rejection, a 403 as a refusal (`forbidden`), a 401 of the token endpoints as one
   * (`client-authentication`; the API's 401s are counted where the token is refused).
   */
  observe(method: string, pattern: string | undefined, params: unknown, status: number, elapsedMs: number): void {
    const route = this.routeLabel(pattern, params);
    this.childOf(route, METHODS.has(method) ? method : 'OTHER', status).observe(elapsedMs / 1000);
    if (status === 429) this.security.rejectedByRateLimit(route);
    else if (status === 403) this.security.refused('forbidden');
    else if (status === 401 && route.startsWith('/auth/')) this.security.refused('client-authentication');
  }

  private routeLabel(pattern: string | undefined, params: unknown): string {
    if (!pattern) return UNMATCHED_ROUTE;
    if (!pattern.includes('/:')) return pattern;
    const values = params as Record<string, string | undefined> | undefined;
    let route = pattern;
    for (const name of TYPE_PARAMS) {
      const type = values?.[name];
      if (type && this.isResourceType(type)) route = this.typedRoute(route, name, type);
    }
    return route;
  }

  private typedRoute(pattern: string, name: string, type: string): string {
    let byName = this.typedRoutes.get(pattern);
    if (!byName) this.typedRoutes.set(pattern, byName = new Map());
    let byType = byName.get(name);
    if (!byType) byName.set(name, byType = new Map());
    let route = byType.get(type);
    if (!route) byType.set(type, route = pattern.replace(`:${name}`, type));
    return route;
  }

  private childOf(route: string, method: string, status: number): HistogramSeries {
    let byMethod = this.children.get(route);
    if (!byMethod) this.children.set(route, byMethod = new Map());
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, byStatus = new Map());
    let child = byStatus.get(status);
    if (!child) byStatus.set(status, child = this.duration.series({ method, route, status: String(status) }));
    return child;
  }
}

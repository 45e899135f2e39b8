/**
 * One workload against one server with autocannon at fixed concurrency: a warm-up, then several
 * measured runs, reported run by run and as medians. Requests rotate through a list of paths or
 * bodies so a workload reads many different rows, not one cached answer.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// autocannon ships no types; this is the part of its API used here (README, "API").
const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<CannonResult>;

interface Histogram { average: number; mean: number; p50: number; p99: number; max: number }
interface CannonResult { requests: Histogram; latency: Histogram; non2xx: number; errors: number; timeouts: number; '2xx': number; duration: number }

/** What a workload sends: a method, headers, and rotating paths or bodies. */
export interface RequestPlan {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  paths: string[];
  bodies?: string[];
}

export interface RunFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** Resources per second carried by 2xx answers (the Bundle load; absent elsewhere). */
  resourcesPerSecond?: number;
}

export interface LoadOptions { connections: number; duration: number; warmup: number; runs: number }

function plannedRequest(plan: RequestPlan): Record<string, unknown> {
  let next = 0;
  return {
    method: plan.method,
    setupRequest: (request: Record<string, unknown>) => {
      const i = next++;
      request.path = plan.paths[i % plan.paths.length];
      if (plan.bodies) request.body = plan.bodies[i % plan.bodies.length];
      return request;
    },
  };
}

/** One autocannon run of `seconds` against `origin`. */
export async function runOnce(origin: string, plan: RequestPlan, connections: number, seconds: number): Promise<RunFigures> {
  const result = await autocannon({
    url: origin,
    connections,
    duration: seconds,
    headers: plan.headers,
    requests: [plannedRequest(plan)],
    timeout: 30,
  });
  return {
    requestsPerSecond: Math.round(result['2xx'] / result.duration * 10) / 10,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The medians of several runs (each figure on its own); non-2xx answers and errors are totals. */
export function medianOf(runs: RunFigures[]): RunFigures {
  const resources = runs.flatMap((r) => (r.resourcesPerSecond === undefined ? [] : [r.resourcesPerSecond]));
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    ...(resources.length ? { resourcesPerSecond: median(resources) } : {}),
  };
}

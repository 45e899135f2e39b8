/**
 * A load generator for workloads whose requests depend on earlier answers (the Health Samurai
 * CRUD mix: create → read → update → delete of what was just created), which autocannon's fixed
 * request lists cannot express: `users` virtual users, each running a scenario's iteration in a
 * loop over keep-alive connections (`http.Agent`, one socket per user), as k6's `constant-vus`
 * executor does. Requests that complete inside the measured window count; an iteration running at
 * its end is finished (so a CRUD chain deletes what it created) but not counted.
 */
import http from 'node:http';
import { percentile } from './subscription-latency.ts';
import type { RunFigures } from './load-test.ts';

export interface ScenarioAnswer { status: number; body: string }

/** What an iteration uses to talk to the server. */
export interface ScenarioClient {
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: string): Promise<ScenarioAnswer>;
  /** Counts resources carried by a request that succeeded (Bundle entries), for resources/s. */
  countResources(n: number): void;
}

/** One virtual user's iteration; `user` is 0-based, `n` counts that user's iterations. */
export interface Scenario {
  headers: Record<string, string>;
  iteration(client: ScenarioClient, user: number, n: number): Promise<void>;
}

/** Runs `scenario` with `users` virtual users against `origin` for `seconds`. */
export async function runScenario(origin: string, scenario: Scenario, users: number, seconds: number): Promise<RunFigures> {
  const target = new URL(origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: users });
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let resources = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const send = (method: string, path: string, body?: string) => new Promise<ScenarioAnswer>((resolve, reject) => {
    const headers = body === undefined ? scenario.headers : { ...scenario.headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = http.request({ agent, hostname: target.hostname, port: target.port, method, path, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
  const client: ScenarioClient = {
    async request(method, path, body) {
      const sent = performance.now();
      try {
        const answer = await send(method, path, body);
        const done = performance.now();
        if (done <= deadline) {
          latencies.push(done - sent);
          if (answer.status >= 200 && answer.status < 300) ok++;
          else non2xx++;
        }
        return answer;
      } catch (err) {
        if (performance.now() <= deadline) errors++;
        throw err;
      }
    },
    countResources(n) {
      if (performance.now() <= deadline) resources += n;
    },
  };
  await Promise.all(Array.from({ length: users }, async (_, user) => {
    for (let n = 0; performance.now() < deadline; n++) {
      // A failed request ends the iteration (as a failed k6 check does); the user starts the next.
      await scenario.iteration(client, user, n).catch(() => undefined);
    }
  }));
  agent.destroy();
  const window = Math.min(performance.now(), deadline) - started;
  const perSecond = (count: number) => Math.round((count / (window / 1000)) * 10) / 10;
  return {
    requestsPerSecond: perSecond(ok),
    p50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
    p99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
    non2xx,
    errors,
    ...(resources ? { resourcesPerSecond: perSecond(resources) } : {}),
  };
}

/**
 * A well-behaved client that keeps reading while a test attacks the server (issue 14: "the other
 * client is answered within 1 s throughout, the process never blocks its event loop for more
 * than 200 ms, RSS stays under 1 GB"). It reads a Patient, asks for a token with its refresh
 * token and calls `/healthz`, one request after another, and records the slowest answer and
 * every answer that was not a 200. The server runs in the test's own process, so the event-loop
 * delay and RSS measured here are the server's.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** What the bystander saw while it ran. */
export interface BystanderReport {
  requests: number;
  /** The slowest answer, in ms. */
  slowestMs: number;
  /** Answers that were not 200 (or did not come within 5 s). */
  failures: string[];
  /** The longest the event loop was blocked, in ms. */
  loopMaxMs: number;
  /** The largest resident set size sampled, in MB. */
  rssMaxMb: number;
}

export interface BystanderTarget {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The Patient it reads. */
  patientPath: string;
  /** Its own access and refresh tokens. */
  accessToken: string;
  refreshToken: string;
}

/** Starts reading; `stop()` ends the loop and reports. */
export function startBystander(target: BystanderTarget): { stop(): Promise<BystanderReport> } {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let rssMax = process.memoryUsage.rss();
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, process.memoryUsage.rss()); }, 50);
  const report: BystanderReport = { requests: 0, slowestMs: 0, failures: [], loopMaxMs: 0, rssMaxMb: 0 };
  let running = true;

  const once = async (what: string, request: () => Promise<Response>, expected?: string): Promise<void> => {
    const started = performance.now();
    try {
      const response = await request();
      const text = await response.text();
      if (response.status !== 200) report.failures.push(`${what}: ${response.status}`);
      else if (expected && !text.includes(expected)) report.failures.push(`${what}: ${text.slice(0, 200)}`);
    } catch (err) {
      report.failures.push(`${what}: ${(err as Error).name} ${(err as Error).message}`);
    }
    report.requests += 1;
    report.slowestMs = Math.max(report.slowestMs, performance.now() - started);
  };

  const reading = (async () => {
    for (let i = 0; running; i++) {
      const signal = AbortSignal.timeout(5_000);
      await once('read', () => fetch(`${target.url}${target.patientPath}`, { headers: { authorization: `Bearer ${target.accessToken}` }, signal }));
      if (i % 4 === 1) {
        const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: target.refreshToken });
        await once('token', () => fetch(`${target.url}/auth/token`, { method: 'POST', body, signal }));
      }
      if (i % 4 === 2) {
        const id = target.patientPath.split('/').pop();
        const body = JSON.stringify({ query: `{ Patient(_id: "${id}") { id } }` });
        await once('graphql', () => fetch(`${target.url}/graphql`, {
          method: 'POST', body, signal, headers: { authorization: `Bearer ${target.accessToken}`, 'content-type': 'application/json' },
        }), `{"data":{"Patient":{"id":"${id}"}}`);
      }
      if (i % 4 === 3) await once('healthz', () => fetch(`${target.url}/healthz`, { signal }));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  return {
    async stop() {
      running = false;
      await reading;
      clearInterval(sampler);
      loop.disable();
      report.loopMaxMs = loop.max / 1e6;
      report.rssMaxMb = Math.max(rssMax, process.memoryUsage.rss()) / 2 ** 20;
      return report;
    },
  };
}

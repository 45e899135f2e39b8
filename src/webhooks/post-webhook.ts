/**
 * Sends one webhook: resolves the endpoint's host (`dns.lookup`, every address), refuses the
 * delivery when any address is loopback, private or link-local (unless `WEBHOOK_ALLOW_PRIVATE`),
 * and connects to the address it checked — never resolving the name a second time — so DNS cannot
 * rebind the endpoint to an internal service between check and use. TLS still verifies the
 * certificate against the host name (SNI). The whole attempt (lookup, connect, answer) is bounded
 * by `WEBHOOK_TIMEOUT_MS`; redirects are not followed; the answer's body is read and dropped.
 * Connections are kept alive per checked address for the next deliveries.
 */
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { hostOf, isPrivateAddress } from '../service/subscription/endpoint-address.ts';

/** What is sent: headers and body bytes (empty for a notification without payload). */
export interface WebhookRequest {
  headers: Record<string, string>;
  body: Buffer;
}

/** How an attempt ended. */
export interface WebhookResult {
  /** The endpoint's HTTP status, when it answered. */
  statusCode?: number;
  /** From the start of the lookup to the end of the answer (or the failure). */
  latencyMs: number;
  /** Why it failed without an answer (timeout, refused connection, refused address). */
  error?: string;
  /** True when the server refused to connect at all (a non-public address). */
  refused?: boolean;
}

/** Options of {@link postWebhook}. */
export interface PostOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  agents: WebhookAgents;
}

/** Keep-alive connection pools for webhook deliveries (one process's). */
export class WebhookAgents {
  readonly http = new http.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000 });
  readonly https = new https.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000 });

  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** Largest part of an answer's body read before the connection is dropped. */
const MAX_ANSWER_BYTES = 64 * 1024;

class Refused extends Error {}

/** The address to connect to, checked; throws {@link Refused} for a non-public one. */
async function resolveChecked(host: string, allowPrivate: boolean, signal: AbortSignal): Promise<string> {
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), aborted]);
    addresses = found.map((a) => a.address);
  }
  if (addresses.length === 0) throw new Error(`${host} does not resolve`);
  if (!allowPrivate) {
    const internal = addresses.find(isPrivateAddress);
    if (internal) throw new Refused(`${host} resolves to ${internal}, a loopback, private or link-local address, which webhooks may not reach`);
  }
  return addresses[0];
}

/** A short, secret-free description of a failure. */
function describe(err: unknown, timeoutMs: number, signal: AbortSignal): string {
  if (signal.aborted) return `no answer within ${timeoutMs} ms`;
  const code = (err as { code?: string }).code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the endpoint's host does not resolve (${code})`;
  if (code) return `connection failed (${code})`;
  return ((err as Error).message ?? String(err)).slice(0, 200);
}

/** POSTs `request` to `endpoint`; never throws (a failure is in the result). */
export async function postWebhook(endpoint: URL, request: WebhookRequest, options: PostOptions): Promise<WebhookResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(options.timeoutMs);
  const host = hostOf(endpoint);
  try {
    const address = await resolveChecked(host, options.allowPrivate, signal);
    const secure = endpoint.protocol === 'https:';
    const statusCode = await new Promise<number>((resolve, reject) => {
      const req = (secure ? https : http).request({
        host: address,
        port: endpoint.port || (secure ? 443 : 80),
        path: `${endpoint.pathname}${endpoint.search}`,
        method: 'POST',
        headers: { ...request.headers, host: endpoint.host, 'content-length': String(request.body.length) },
        agent: secure ? options.agents.https : options.agents.http,
        signal,
        ...(secure && !isIP(host) ? { servername: host } : {}),
      }, (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('close', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(request.body);
    });
    return { statusCode, latencyMs: elapsed() };
  } catch (err) {
    if (err instanceof Refused) return { latencyMs: elapsed(), error: err.message, refused: true };
    return { latencyMs: elapsed(), error: describe(err, options.timeoutMs, signal) };
  }
}

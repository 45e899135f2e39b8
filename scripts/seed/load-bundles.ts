/**
 * Loads generated bundles into a running server through its own transaction endpoint
 * (`POST /fhir`, `Prefer: return=minimal`), a few at a time, with an access token that is
 * refreshed before its 15 minutes run out. Directory bundles are all stored before the first
 * clinical one is sent, since clinical resources reference them. A refused bundle stops the load
 * with the server's OperationOutcome diagnostics; 429 answers wait for `Retry-After`.
 * https://hl7.org/fhir/R4/http.html#transaction  README "Authentication and authorisation"
 */
import { serializeBundle, type SeedBundle } from './generate-bundles.ts';

/** Access tokens for the load. */
export interface TokenSource {
  /** A token valid for a while yet. */
  current(): Promise<string>;
  /** Gets a fresh token after a 401; false when this source cannot. */
  renew(): Promise<boolean>;
}

/** A fixed access token (`--token`); it cannot be renewed. */
export function staticTokenSource(token: string): TokenSource {
  return { current: async () => token, renew: async () => false };
}

/** Access tokens take 15 minutes to expire; ask for a new one well before. */
export const TOKEN_MAX_AGE_MS = 10 * 60_000;

/**
 * Exchanges an API-key client's refresh token at `POST /auth/token` (`grant_type=refresh_token`)
 * and renews the access token once it is {@link TOKEN_MAX_AGE_MS} old.
 */
export function refreshTokenSource(baseUrl: string, refreshToken: string, now: () => number = Date.now): TokenSource {
  let cached: { token: string; at: number } | undefined;
  let pending: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${baseUrl}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      text = await response.text();
    } catch (err) {
      throw new SeedLoadError(`could not reach ${baseUrl}/auth/token: ${causeOf(err)}`);
    }
    let body: { access_token?: string; error?: string; error_description?: string } = {};
    try {
      body = JSON.parse(text);
    } catch { /* reported below */ }
    if (!response.ok || typeof body.access_token !== 'string') {
      throw new SeedLoadError(`the token endpoint refused the refresh token: ${response.status} ${body.error ?? ''} ${body.error_description ?? text.slice(0, 200)}`.trim(), response.status);
    }
    cached = { token: body.access_token, at: now() };
    return body.access_token;
  };
  const refresh = () => (pending ??= fetchToken().finally(() => { pending = undefined; }));
  return {
    current: async () => (cached && now() - cached.at < TOKEN_MAX_AGE_MS ? cached.token : refresh()),
    renew: async () => {
      cached = undefined;
      await refresh();
      return true;
    },
  };
}

/** The useful part of a `fetch` failure (undici hides it in `cause`: `connect ECONNREFUSED …`). */
function causeOf(err: unknown): string {
  const cause = (err as { cause?: { message?: string; code?: string } }).cause;
  return cause?.message ?? cause?.code ?? (err as Error)?.message ?? String(err);
}

/** A bundle the server refused, or a server that could not be reached. */
export class SeedLoadError extends Error {
  override name = 'SeedLoadError';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

/** What the load needs. */
export interface LoadOptions {
  /** The server, e.g. `http://127.0.0.1:8080` (bundles go to `${baseUrl}/fhir`). */
  baseUrl: string;
  tokens: TokenSource;
  /** Bundles in flight at once. */
  concurrency: number;
  /** Called after each stored bundle with its number of resources. */
  onStored?(resources: number): void;
  /**
   * Stops sending new bundles; the ones in flight still finish (each is its own transaction, and
   * cutting a request off mid-body would leave its connection open and the server unable to close).
   */
  signal?: AbortSignal;
}

/** What was loaded. */
export interface LoadResult {
  bundles: number;
  resources: number;
}

const MAX_RETRIES = 30;

/** The diagnostics of an OperationOutcome body, or the start of the body. */
function describeRefusal(text: string): string {
  try {
    const body = JSON.parse(text) as { resourceType?: string; issue?: { diagnostics?: string; code?: string; expression?: string[] }[] };
    if (body.resourceType === 'OperationOutcome' && Array.isArray(body.issue)) {
      const lines = body.issue.slice(0, 20).map((i) => `  - ${i.diagnostics ?? i.code ?? 'error'}${i.expression?.length ? ` (${i.expression.join(', ')})` : ''}`);
      if (body.issue.length > 20) lines.push(`  … and ${body.issue.length - 20} more issues`);
      return lines.join('\n');
    }
  } catch { /* not JSON */ }
  return `  ${text.slice(0, 500)}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** Posts one transaction bundle until it is stored, waiting out 429s and renewing an expired token. */
export async function postBundle(body: string, label: string, options: LoadOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) options.signal?.throwIfAborted();
    const token = await options.tokens.current();
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${options.baseUrl}/fhir`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', authorization: `Bearer ${token}`, prefer: 'return=minimal' },
        body,
      });
      text = await response.text();
    } catch (err) {
      throw new SeedLoadError(`${label} could not be sent to ${options.baseUrl}/fhir: ${causeOf(err)}`);
    }
    if (response.ok) return;
    if (attempt < MAX_RETRIES && response.status === 429) {
      const wait = Number(response.headers.get('retry-after'));
      await sleep((Number.isFinite(wait) && wait > 0 ? wait : 1) * 1000, options.signal);
      continue;
    }
    if (attempt < 3 && response.status === 401 && (await options.tokens.renew())) continue;
    throw new SeedLoadError(`${label} was refused: ${response.status} ${response.statusText}\n${describeRefusal(text)}`, response.status);
  }
}

/**
 * Loads `bundles` in order, `concurrency` at a time, waiting for every directory bundle before the
 * first clinical one. Stops at the first failure (bundles already stored stay stored: each bundle
 * is its own transaction).
 */
export async function loadBundles(bundles: Iterable<SeedBundle>, options: LoadOptions): Promise<LoadResult> {
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let phase: SeedBundle['phase'] | undefined;
  let sent = 0;
  const result: LoadResult = { bundles: 0, resources: 0 };
  for (const item of bundles) {
    if (item.phase !== phase) {
      await Promise.all(inFlight);
      phase = item.phase;
    }
    while (inFlight.size >= options.concurrency && failure === undefined) await Promise.race(inFlight);
    if (failure !== undefined || options.signal?.aborted) break;
    const resources = item.bundle.entry.length;
    const label = `bundle ${++sent} (${item.phase}, ${resources} entries)`;
    const task: Promise<void> = postBundle(serializeBundle(item.bundle), label, options)
      .then(() => {
        result.bundles++;
        result.resources += resources;
        options.onStored?.(resources);
      })
      .catch((err: unknown) => { failure ??= err; })
      .finally(() => { inFlight.delete(task); });
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  options.signal?.throwIfAborted();
  return result;
}

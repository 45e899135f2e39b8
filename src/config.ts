/**
 * The only reader of `process.env`: every setting the server, the CLI and the tests use,
 * validated once and passed down as a typed {@link Config}.
 * The variable names are the public interface of `../shared/CONTRACT.md` ("Running it").
 */
import path from 'node:path';
import { findProjectRoot } from './project-root.ts';

export interface Config {
  /** PostgreSQL connection string; `undefined` starts the embedded PostgreSQL in {@link dataDir}. */
  databaseUrl: string | undefined;
  port: number;
  host: string;
  /** Base URL used in links, `Location` headers and token audiences; no trailing slash. */
  publicUrl: string;
  /** `DATA_DIR`: the embedded cluster's files; default `<project root>/.data`. */
  dataDir: string;
  logLevel: string;
  /**
   * The standard `OTEL_*` variables as given (`OTEL_EXPORTER_OTLP_ENDPOINT` and friends), read by
   * `src/telemetry/tracing/tracing-settings.ts`: traces go out over OTLP only when an endpoint is set.
   */
  otel: Readonly<Record<string, string>>;
  /**
   * `MAX_BODY`: largest request body in bytes (413 above it), accepted only where a Bundle is
   * written: a `batch` or `transaction` posted to the base, or a `Bundle` resource.
   */
  maxBodyBytes: number;
  /**
   * `MAX_RESOURCE_BODY`: largest body of every other request (a resource written, a JSON Patch,
   * `$validate`, a GraphQL request, the admin API), 413 above it. Such a body is parsed and
   * validated in one go, so this bounds how long it holds the event loop.
   */
  maxResourceBodyBytes: number;
  /**
   * `MAX_FORM_BODY`: largest `application/x-www-form-urlencoded` body (`POST /fhir/{type}/_search`,
   * the token and revocation endpoints), 413 above it (an OAuth `invalid_request` on `/auth`).
   */
  maxFormBodyBytes: number;
  /**
   * `MAX_BINARY`: largest content of one `Binary` in bytes (default 64 MiB), 413 above it. Sent
   * raw (`POST /fhir/Binary` with the file's own Content-Type) it is streamed into the database
   * in chunks, never held whole in memory; sent as FHIR JSON it is bounded by the body limits too.
   */
  maxBinaryBytes: number;
  /** Connections per process in the PostgreSQL pool. */
  poolSize: number;
  /** `DB_ACQUIRE_TIMEOUT_MS`: how long a request waits for a database connection before it answers 503. */
  dbAcquireTimeoutMs: number;
  /** `DB_REQUEST_CONNECTIONS`: pooled connections one API request may hold at once (the rest of its statements wait their turn). */
  dbRequestConnections: number;
  /**
   * `DB_CLIENT_CONNECTIONS`: pooled connections the requests of one client may hold at once
   * (default half the pool, at least 1), so one client's slow requests never take the whole pool
   * from other clients, `/healthz` and the token endpoint. Its other statements wait up to
   * `DB_ACQUIRE_TIMEOUT_MS` for one of its slots, then answer 503 with `Retry-After`.
   */
  dbClientConnections: number;
  /** Largest page `_count` may ask for. */
  maxCount: number;
  defaultCount: number;
  /**
   * `WEBHOOK_ALLOW_PRIVATE`: `true` lets webhook endpoints sit on loopback, private and link-local
   * addresses (local development, tests); by default they are refused when a Subscription is
   * written and again, on the resolved address, at every delivery.
   */
  webhookAllowPrivate: boolean;
  /** Webhook delivery (src/webhooks/README.md): {@link WebhookConfig}. */
  webhooks: WebhookConfig;
  /**
   * `CORS_ORIGINS`: the browser origins (`https://app.example.org`, exact, no path) whose pages
   * may call `/graphql`, `/fhir` and `/auth`; `['*']` allows any origin, `[]` (the default) none.
   * Preflights are answered either way, without a token (`http/cors.ts`).
   * https://fetch.spec.whatwg.org/#http-cors-protocol
   */
  corsOrigins: readonly string[];
  /** Default per-client limits for API requests (0 = none); a client's `--rate` overrides them. */
  rateLimit: { perSecond: number; perMinute: number };
  /** Token-endpoint limits per client and per IP, against brute force. */
  tokenRateLimit: { perSecond: number; perMinute: number };
  /**
   * GraphQL protection: introspection on or off; an operation's maximum depth and cost (resources
   * it may return); operations executing at once (`concurrency`, and `clientConcurrency` of one
   * client among them); and the caps on a document checked before validation (tokens, aliases,
   * selections), which keep parsing and validation linear-ish.
   */
  graphql: {
    introspection: boolean; maxDepth: number; maxCost: number; concurrency: number;
    /** `GRAPHQL_CLIENT_CONCURRENCY`: operations of one client executing at once, within `concurrency`. */
    clientConcurrency: number;
    maxTokens: number; maxAliases: number; maxSelections: number;
    /** `GRAPHQL_MAX_MERGED_FIELDS`: fields sharing one response name in one selection set, fragments included. */
    maxMergedFields: number;
    /** `GRAPHQL_SCHEMA_QUEUE`: introspection and `_service` queries waiting for the schema worker (beyond: 503). */
    schemaQueue: number;
  };
  /** Bounds on the cost of one API request (README "Limits"): {@link Limits}. */
  limits: Limits;
  /** The change feed (src/changes/README.md): {@link ChangeFeedConfig}. */
  changes: ChangeFeedConfig;
  /** The audit trail (README "Audit"): {@link AuditConfig}. */
  audit: AuditConfig;
  /** The limits of `GET /readyz` (README "Health and readiness"): {@link ReadinessConfig}. */
  readiness: ReadinessConfig;
  /** GraphQL subscriptions over WebSocket (README "Subscriptions"): {@link WebSocketConfig}. */
  websocket: WebSocketConfig;
  /** The terminology operations (README "Terminology"). */
  terminology: {
    /** `TERMINOLOGY_MAX_EXPANSION`: codes in one `$expand` answer (beyond: 422 `too-costly`; page with `count`). */
    maxExpansion: number;
  };
  /**
   * `Patient/$everything` (README "$everything"): `EVERYTHING_MAX_REFERENCING`, the compartment
   * members (per patient, or per batch of patients at type level) whose references are followed.
   */
  everything: { maxReferencing: number };
  /** `Composition/$document` (README "$document"): `DOCUMENT_MAX_RESOURCES`, resources one document may hold (beyond: 422). */
  document: { maxResources: number };
  /** Bulk Data `$export` (src/operations/export/README.md): {@link ExportConfig}. */
  export: ExportConfig;
  /** Prometheus `/metrics` on a listener of its own (README "Metrics"): {@link MetricsConfig}. */
  metrics: MetricsConfig;
}

/**
 * `METRICS_HOST`/`METRICS_PORT` (default `127.0.0.1:9464`): where Prometheus scrapes `GET /metrics`,
 * without a token. Port `0` turns metrics off: no listener and nothing recorded. `'ephemeral'`
 * (never read from the environment: tests and the bench set it in code) listens on a free port,
 * which `RunningServer.metricsUrl` names.
 */
export interface MetricsConfig {
  host: string;
  port: number | 'ephemeral';
}

/**
 * Settings of Bulk Data `$export` (https://hl7.org/fhir/uv/bulkdata/export.html): how long
 * outputs are kept, how many exports a client may run at once, and the sizes the work is cut into.
 */
export interface ExportConfig {
  /** `EXPORT_RETENTION`: how long an export and its files are kept after kick-off and after completion (written like `CHANGE_RETENTION`). Default 24 hours. */
  retentionMs: number;
  /** `EXPORT_MAX_PER_CLIENT`: exports one client may have accepted or running at once; beyond, kick-off answers 429. Default 2. */
  maxPerClient: number;
  /** `EXPORT_CONCURRENCY`: export jobs one server process works on at once. Default 2. */
  concurrency: number;
  /** `EXPORT_FILE_RESOURCES`: resources per output file; a type with more gets several files. Default 100,000. */
  fileResources: number;
  /** `EXPORT_CHUNK_RESOURCES`: resources written per transaction (each with its checkpoint). Default 2,000. */
  chunkResources: number;
  /** `EXPORT_CHUNK_BYTES`: the NDJSON bytes one chunk holds at most (one resource more when a single one is larger). Default 4 MiB. */
  chunkBytes: number;
}

/**
 * Limits of GraphQL subscriptions over WebSocket (`ws://…/graphql`, `graphql-transport-ws`). The
 * query limits (`GRAPHQL_MAX_*`) apply to subscription documents too, and criteria get the REST
 * search limits (`SEARCH_MAX_*`). https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md
 */
export interface WebSocketConfig {
  /** `WS_MAX_SUBSCRIPTIONS`: subscriptions one connection may hold open at once (default 20); beyond, a start is refused. */
  maxSubscriptions: number;
  /**
   * `WS_MAX_CONNECTIONS_PER_CLIENT`: WebSocket connections one client may hold open at once on one
   * server process (default 10); beyond, `connection_init` is answered by closing with 4429.
   */
  maxConnectionsPerClient: number;
  /**
   * `WS_MAX_QUEUED_EVENTS`: events one subscription may hold for a client that has not taken them
   * yet (received from the change feed, not yet sent), default 10,000; beyond, the client reads too
   * slowly: its socket is closed with 1013 and it resumes with `since`.
   */
  maxQueuedEvents: number;
  /**
   * `WS_MAX_BUFFER`: bytes of messages one socket may have waiting to be written to the network,
   * default 16 MiB; beyond, the socket is closed with 1013 too.
   */
  maxBufferBytes: number;
}

/** Settings of the audit trail. */
export interface AuditConfig {
  /**
   * `AUDIT_RETENTION`: how long AuditEvents are kept, in milliseconds, written like
   * `CHANGE_RETENTION`; undefined (the default) keeps every one. The trail is partitioned by
   * month, so a month is dropped whole once all of it is older than this.
   */
  retentionMs: number | undefined;
}

/** Settings of the change feed. */
export interface ChangeFeedConfig {
  /**
   * `CHANGE_RETENTION`: how long committed changes stay readable (resumable) before they are
   * pruned, in milliseconds; written `7d`, `24h`, `30m`, `90s` or plain seconds. Default 7 days.
   */
  retentionMs: number;
  /**
   * `CHANGE_POLL_MS`: how often each process looks for changes whose notification it missed (and
   * for changes nobody has given a feed position yet). Default 1000.
   */
  pollMs: number;
}

/** The limits past which `GET /readyz` answers 503. */
export interface ReadinessConfig {
  /** `READY_MAX_FEED_LAG`: how long a committed change may wait for its feed position. Default 30s. */
  maxFeedLagMs: number;
  /** `READY_MAX_QUEUE_AGE`: how long a job that may start may wait in the job queue. Default 5m. */
  maxQueueAgeMs: number;
}

/** Settings of webhook delivery (FHIR `Subscription`, `channel.type = rest-hook`). */
export interface WebhookConfig {
  /**
   * `WEBHOOK_TIMEOUT_MS`: how long one delivery attempt may take, from connecting to the end of
   * the endpoint's answer, before it counts as failed. Default 10000.
   */
  timeoutMs: number;
  /**
   * `WEBHOOK_RETRY_PERIOD`: how long a failing delivery is retried (from its first attempt)
   * before it is given up and its Subscription turned `off`; written like `CHANGE_RETENTION`
   * (`24h`, `30m`, …). Default 24 hours.
   */
  retryPeriodMs: number;
  /**
   * `WEBHOOK_RETRY_MAX_DELAY`: the cap of the exponential backoff between attempts of one
   * delivery (1 s, 2 s, 4 s, … with jitter), so an endpoint that recovers gets every pending
   * event within about this long. Written like `CHANGE_RETENTION`. Default 60 s.
   */
  retryMaxDelayMs: number;
  /** `WEBHOOK_CONCURRENCY`: delivery attempts one server process runs at once. Default 16. */
  concurrency: number;
}

/**
 * `text` without its trailing slashes. A loop rather than `replace(/\/+$/, '')`, whose search is
 * quadratic on a long run of slashes followed by anything else.
 */
export function trimTrailingSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 47) end--;
  return text.slice(0, end);
}

/**
 * What one API request may cost. A search beyond `search` answers 400 (also under lenient
 * handling: these bound cost, they do not judge parameters), a resource beyond `resource` 422,
 * and an API request's SQL statement running longer than `statementTimeoutMs` is cancelled (503).
 */
export interface Limits {
  /** `STATEMENT_TIMEOUT` (ms, 0 = none): per statement of an API request; CLI commands are not bounded. */
  statementTimeoutMs: number;
  /**
   * `REQUEST_TIMEOUT` (ms, 0 = none): how long one HTTP request may take in all; then its
   * running statement is cancelled and it answers 503 (`timeout`). Unset: a bit above
   * `statementTimeoutMs` ({@link requestTimeoutOf}), so one slow statement meets its own timeout first.
   */
  requestTimeoutMs?: number;
  search: SearchLimits;
  resource: ResourceLimits;
}

/**
 * Bounds on one FHIR search (REST, a Bundle entry or a GraphQL search field), checked when the
 * search is parsed, before any SQL: beyond them it is refused with 400 (README "Limits").
 * https://hl7.org/fhir/R4/search.html
 */
export interface SearchLimits {
  /** `SEARCH_MAX_PARAMS`: name=value pairs in one search, result parameters and ignored ones included. */
  maxParams: number;
  /** `SEARCH_MAX_CRITERIA`: criteria, counting every target type a chain or `_has` expands to. */
  maxCriteria: number;
  /** `SEARCH_MAX_VALUES`: comma-separated values of one parameter (OR-ed values, `_elements` names). */
  maxValues: number;
  /** `SEARCH_MAX_SORT`: `_sort` keys. */
  maxSort: number;
  /** `SEARCH_MAX_INCLUDES`: `_include` and `_revinclude` parameters together. */
  maxIncludes: number;
  /** `SEARCH_MAX_INCLUDED`: resources `_include`/`_revinclude` add to a page (beyond: left out and reported). */
  maxIncluded: number;
}

/**
 * Bounds on one resource a client writes, checked before it is validated and stored: beyond them
 * it is refused with 422 (README "Limits"). https://hl7.org/fhir/R4/http.html#create
 */
export interface ResourceLimits {
  /** `RESOURCE_MAX_REPEATS`: items in any one array of a resource (checked before validation). */
  maxRepeats: number;
  /** `RESOURCE_MAX_INDEX_ROWS`: search index rows one resource may produce. */
  maxIndexRows: number;
  /**
   * `RESOURCE_MAX_ITEMS`: JSON values (objects, arrays, strings, numbers, booleans) in one
   * resource; each resource of a Bundle's entries counts on its own. A JSON Patch is charged the
   * values it adds as it goes (a `copy` the values it copies), so it cannot grow a resource past it.
   */
  maxItems: number;
  /** `PATCH_MAX_OPERATIONS`: operations in one JSON Patch. */
  maxPatchOperations: number;
}

/** What `REQUEST_TIMEOUT` is when unset: the statement timeout plus this margin (ms). */
const REQUEST_TIMEOUT_MARGIN_MS = 2_000;

/**
 * The effective request deadline in ms (0 = none): `REQUEST_TIMEOUT`, else `STATEMENT_TIMEOUT`
 * plus a margin, else none when statements are not bounded either.
 */
export function requestTimeoutOf(limits: Limits): number {
  if (limits.requestTimeoutMs !== undefined) return limits.requestTimeoutMs;
  return limits.statementTimeoutMs > 0 ? limits.statementTimeoutMs + REQUEST_TIMEOUT_MARGIN_MS : 0;
}

/**
 * How many request deadlines a request carrying a Bundle of up to `MAX_BODY` gets (a batch or
 * transaction, a Bundle resource): its entries are many writes and are processed in time slices
 * that let other clients run in between, so it takes longer than one interaction.
 */
export const BUNDLE_TIMEOUT_FACTOR = 5;

/** The defaults of {@link Limits}: generous for every R4 example and the seed data. */
export const DEFAULT_LIMITS: Limits = {
  statementTimeoutMs: 10_000,
  search: { maxParams: 100, maxCriteria: 30, maxValues: 100, maxSort: 8, maxIncludes: 10, maxIncluded: 1000 },
  resource: { maxRepeats: 10_000, maxIndexRows: 10_000, maxItems: 100_000, maxPatchOperations: 1_000 },
};

function readInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

/** A TCP port (0 included) from `name`, or `fallback` when unset. */
function readPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const port = readInt(env, name, fallback);
  if (port > 65_535) throw new Error(`${name} must be a TCP port (0 to 65535), got "${env[name]}"`);
  return port;
}

/** A host name or an IP address, as a browser's `Origin` carries it (no wildcard). */
const ORIGIN_HOST = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])$/;

/** `text` as the origin a browser would send (`https://app.example.org`), or undefined when it is no origin. */
function originOf(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password && !text.endsWith('#') && !text.endsWith('?');
  return (url.protocol === 'http:' || url.protocol === 'https:') && bare && ORIGIN_HOST.test(url.hostname) ? url.origin : undefined;
}

/**
 * `CORS_ORIGINS`: a comma-separated list of origins, each `http(s)://host[:port]` (written as a
 * browser sends it after normalising case, default port and a trailing slash), or `*` alone.
 * Anything else (a path, another scheme, a pattern) stops the start: a browser sends the exact
 * origin, so a near-miss would silently allow nothing.
 */
function readCorsOrigins(env: NodeJS.ProcessEnv): string[] {
  const items = (env.CORS_ORIGINS ?? '').split(',').map((item) => trimTrailingSlashes(item.trim())).filter(Boolean);
  if (items.length === 1 && items[0] === '*') return ['*'];
  return items.map((item) => {
    const origin = originOf(item);
    if (!origin) throw new Error(`CORS_ORIGINS must list origins such as https://app.example.org (or be * alone), got "${item.slice(0, 100)}"`);
    return origin;
  });
}

function readLimits(env: NodeJS.ProcessEnv): Limits {
  const d = DEFAULT_LIMITS;
  return {
    statementTimeoutMs: readInt(env, 'STATEMENT_TIMEOUT', d.statementTimeoutMs),
    requestTimeoutMs: env.REQUEST_TIMEOUT ? readInt(env, 'REQUEST_TIMEOUT', 0) : undefined,
    search: {
      maxParams: readInt(env, 'SEARCH_MAX_PARAMS', d.search.maxParams, 1),
      maxCriteria: readInt(env, 'SEARCH_MAX_CRITERIA', d.search.maxCriteria, 1),
      maxValues: readInt(env, 'SEARCH_MAX_VALUES', d.search.maxValues, 1),
      maxSort: readInt(env, 'SEARCH_MAX_SORT', d.search.maxSort, 1),
      maxIncludes: readInt(env, 'SEARCH_MAX_INCLUDES', d.search.maxIncludes, 0),
      maxIncluded: readInt(env, 'SEARCH_MAX_INCLUDED', d.search.maxIncluded, 1),
    },
    resource: {
      maxRepeats: readInt(env, 'RESOURCE_MAX_REPEATS', d.resource.maxRepeats, 100),
      maxIndexRows: readInt(env, 'RESOURCE_MAX_INDEX_ROWS', d.resource.maxIndexRows, 100),
      maxItems: readInt(env, 'RESOURCE_MAX_ITEMS', d.resource.maxItems, 1_000),
      maxPatchOperations: readInt(env, 'PATCH_MAX_OPERATIONS', d.resource.maxPatchOperations, 1),
    },
  };
}

const DURATION_UNITS: Record<string, number> = { '': 1_000, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Reads a duration (`7d`, `24h`, `30m`, `90s`, or plain seconds) as milliseconds. */
function readDuration(env: NodeJS.ProcessEnv, name: string, fallbackMs: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallbackMs;
  const m = /^(\d{1,9})([smhd]?)$/.exec(raw.trim());
  if (!m || Number(m[1]) === 0) throw new Error(`${name} must be a positive duration such as 7d, 24h, 30m, 90s or 3600 (seconds), got "${raw}"`);
  return Number(m[1]) * DURATION_UNITS[m[2]];
}

/** Reads and validates the configuration from an environment (by default `process.env`). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const port = readInt(env, 'PORT', 8080);
  const poolSize = readInt(env, 'DB_POOL_SIZE', 10, 1);
  const publicUrl = trimTrailingSlashes(env.PUBLIC_URL || `http://localhost:${port}`);
  const config: Config = {
    databaseUrl: env.DATABASE_URL || undefined,
    port,
    host: env.HOST || '127.0.0.1',
    publicUrl,
    // The default lives in the project root whatever the working directory (`npx fhirgraph` run
    // from a subfolder must not start a second, empty cluster there); a DATA_DIR given is taken
    // as the shell gave it, relative to the working directory.
    dataDir: env.DATA_DIR ? path.resolve(env.DATA_DIR) : path.join(findProjectRoot(), '.data'),
    logLevel: env.LOG_LEVEL || 'info',
    otel: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[0].startsWith('OTEL_') && entry[1] !== undefined)),
    maxBodyBytes: readInt(env, 'MAX_BODY', 32 * 1024 * 1024, 1024),
    maxResourceBodyBytes: readInt(env, 'MAX_RESOURCE_BODY', 1024 * 1024, 1024),
    maxFormBodyBytes: readInt(env, 'MAX_FORM_BODY', 64 * 1024, 1024),
    maxBinaryBytes: readInt(env, 'MAX_BINARY', 64 * 1024 * 1024, 1),
    poolSize,
    dbAcquireTimeoutMs: readInt(env, 'DB_ACQUIRE_TIMEOUT_MS', 5_000, 100),
    dbRequestConnections: readInt(env, 'DB_REQUEST_CONNECTIONS', 2, 1),
    dbClientConnections: readInt(env, 'DB_CLIENT_CONNECTIONS', Math.max(1, Math.floor(poolSize / 2)), 1),
    maxCount: readInt(env, 'MAX_COUNT', 1000, 1),
    defaultCount: readInt(env, 'DEFAULT_COUNT', 20, 1),
    webhookAllowPrivate: env.WEBHOOK_ALLOW_PRIVATE === 'true',
    corsOrigins: readCorsOrigins(env),
    rateLimit: { perSecond: readInt(env, 'RATE_LIMIT_PER_SECOND', 200), perMinute: readInt(env, 'RATE_LIMIT_PER_MINUTE', 6000) },
    tokenRateLimit: { perSecond: readInt(env, 'TOKEN_RATE_LIMIT_PER_SECOND', 20), perMinute: readInt(env, 'TOKEN_RATE_LIMIT_PER_MINUTE', 300) },
    graphql: {
      introspection: env.GRAPHQL_INTROSPECTION !== 'false',
      maxDepth: readInt(env, 'GRAPHQL_MAX_DEPTH', 15, 1),
      maxCost: readInt(env, 'GRAPHQL_MAX_COST', 10_000, 1),
      concurrency: readInt(env, 'GRAPHQL_CONCURRENCY', 4, 1),
      clientConcurrency: readInt(env, 'GRAPHQL_CLIENT_CONCURRENCY', 2, 1),
      maxTokens: readInt(env, 'GRAPHQL_MAX_TOKENS', 10_000, 100),
      maxAliases: readInt(env, 'GRAPHQL_MAX_ALIASES', 100, 0),
      maxSelections: readInt(env, 'GRAPHQL_MAX_SELECTIONS', 500, 10),
      maxMergedFields: readInt(env, 'GRAPHQL_MAX_MERGED_FIELDS', 100, 2),
      schemaQueue: readInt(env, 'GRAPHQL_SCHEMA_QUEUE', 4, 0),
    },
    limits: readLimits(env),
    changes: { retentionMs: readDuration(env, 'CHANGE_RETENTION', 7 * 86_400_000), pollMs: readInt(env, 'CHANGE_POLL_MS', 1_000, 50) },
    audit: { retentionMs: env.AUDIT_RETENTION ? readDuration(env, 'AUDIT_RETENTION', 0) : undefined },
    readiness: { maxFeedLagMs: readDuration(env, 'READY_MAX_FEED_LAG', 30_000), maxQueueAgeMs: readDuration(env, 'READY_MAX_QUEUE_AGE', 300_000) },
    websocket: {
      maxSubscriptions: readInt(env, 'WS_MAX_SUBSCRIPTIONS', 20, 1),
      maxConnectionsPerClient: readInt(env, 'WS_MAX_CONNECTIONS_PER_CLIENT', 10, 1),
      maxQueuedEvents: readInt(env, 'WS_MAX_QUEUED_EVENTS', 10_000, 1),
      maxBufferBytes: readInt(env, 'WS_MAX_BUFFER', 16 * 1024 * 1024, 1024),
    },
    export: {
      retentionMs: readDuration(env, 'EXPORT_RETENTION', 86_400_000),
      maxPerClient: readInt(env, 'EXPORT_MAX_PER_CLIENT', 2, 1),
      concurrency: readInt(env, 'EXPORT_CONCURRENCY', 2, 1),
      fileResources: readInt(env, 'EXPORT_FILE_RESOURCES', 100_000, 1),
      chunkResources: readInt(env, 'EXPORT_CHUNK_RESOURCES', 2_000, 1),
      chunkBytes: readInt(env, 'EXPORT_CHUNK_BYTES', 4 * 1024 * 1024, 1024),
    },
    webhooks: {
      timeoutMs: readInt(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100),
      retryPeriodMs: readDuration(env, 'WEBHOOK_RETRY_PERIOD', 86_400_000),
      retryMaxDelayMs: readDuration(env, 'WEBHOOK_RETRY_MAX_DELAY', 60_000),
      concurrency: readInt(env, 'WEBHOOK_CONCURRENCY', 16, 1),
    },
    terminology: { maxExpansion: readInt(env, 'TERMINOLOGY_MAX_EXPANSION', 10_000, 1) },
    everything: { maxReferencing: readInt(env, 'EVERYTHING_MAX_REFERENCING', 10_000, 1) },
    document: { maxResources: readInt(env, 'DOCUMENT_MAX_RESOURCES', 1_000, 2) },
    metrics: { host: env.METRICS_HOST || '127.0.0.1', port: readPort(env, 'METRICS_PORT', 9464) },
    ...overrides,
  };
  return config;
}

/**
 * A Subscription's `rest-hook` channel, read and checked: the endpoint (endpoint-address.ts),
 * the extra request headers (`channel.header`, each `Name: value`), whether the resource goes in
 * the body (`channel.payload`, a JSON media type or absent), and the server-private secret,
 * which a client sets as a `channel.header` entry `X-Fhirgraph-Secret: …` that is taken out
 * before the resource is stored (so no read ever shows it).
 * https://hl7.org/fhir/R4/subscription.html#channel
 */
import { unprocessable } from '../../fhir/outcomes.ts';
import type { SecretChange } from '../../store/webhook-repository.ts';
import { isJsonObject, type FhirResource } from '../resource-content.ts';
import { endpointProblem } from './endpoint-address.ts';

/** The `channel.header` name that carries the Subscription's secret (case-insensitive); never stored in the resource. */
export const SECRET_HEADER = 'X-Fhirgraph-Secret';
/** Secrets are at least this long (a short HMAC key is guessable). */
const MIN_SECRET = 16;
const MAX_SECRET = 512;
const MAX_HEADERS = 32;
/** RFC 9110 §5.1 field names. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
/** RFC 9110 §5.5 field values: visible characters, spaces and tabs, no CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7E\x80-\uFFFF]{0,4000}$/;
/** Headers the server sets itself or that would break the request framing. */
const RESERVED = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);

/** The delivery settings of a rest-hook channel. */
export interface RestHookChannel {
  endpoint: URL;
  /** `channel.header` as name/value pairs, in order. */
  headers: [string, string][];
  /** True when the resource is sent as the body (`channel.payload` is a JSON media type). */
  sendResource: boolean;
}

/** The `channel` object of a Subscription, or undefined. */
function channelOf(resource: FhirResource): Record<string, unknown> | undefined {
  return isJsonObject(resource.channel) ? resource.channel : undefined;
}

/** True when the Subscription is one the server delivers (`channel.type = rest-hook`). */
export function isRestHook(resource: FhirResource): boolean {
  return channelOf(resource)?.type === 'rest-hook';
}

/** Splits `Name: value`; undefined when there is no colon. */
function splitHeader(entry: string): [string, string] | undefined {
  const colon = entry.indexOf(':');
  return colon < 0 ? undefined : [entry.slice(0, colon).trim(), entry.slice(colon + 1).trim()];
}

/**
 * Takes the secret out of `channel.header`: returns the resource to store (without the secret
 * entry) and what happens to the stored secret — set to the value given, cleared by an empty
 * value, kept when the entry is absent (a client re-sending what it read keeps its secret).
 */
export function takeSecret(resource: FhirResource): { resource: FhirResource; secret: SecretChange } {
  const channel = channelOf(resource);
  if (!channel || !Array.isArray(channel.header)) return { resource, secret: { kind: 'keep' } };
  const entries = channel.header as unknown[];
  const isSecret = (entry: unknown) => typeof entry === 'string' && splitHeader(entry)?.[0].toLowerCase() === SECRET_HEADER.toLowerCase();
  const found = entries.filter(isSecret) as string[];
  if (found.length === 0) return { resource, secret: { kind: 'keep' } };
  if (found.length > 1) throw unprocessable(`channel.header may carry ${SECRET_HEADER} once`, 'Subscription.channel.header');
  const value = splitHeader(found[0])![1];
  if (value && (value.length < MIN_SECRET || value.length > MAX_SECRET || !FIELD_VALUE.test(value))) {
    throw unprocessable(`${SECRET_HEADER} must be ${MIN_SECRET} to ${MAX_SECRET} printable characters (or empty, to remove the secret)`, 'Subscription.channel.header');
  }
  const kept = entries.filter((entry) => !isSecret(entry));
  const { header: _header, ...rest } = channel;
  const stripped = { ...resource, channel: kept.length > 0 ? { ...rest, header: kept } : rest };
  return { resource: stripped, secret: value ? { kind: 'set', value } : { kind: 'clear' } };
}

/** Checks `channel.header` entries; returns them as pairs. */
function readHeaders(channel: Record<string, unknown>): [string, string][] {
  if (channel.header === undefined) return [];
  const entries = channel.header as unknown[];
  if (entries.length > MAX_HEADERS) throw unprocessable(`channel.header may hold at most ${MAX_HEADERS} entries`, 'Subscription.channel.header');
  return entries.map((entry, i) => {
    const where = `Subscription.channel.header[${i}]`;
    const pair = typeof entry === 'string' ? splitHeader(entry) : undefined;
    if (!pair || !FIELD_NAME.test(pair[0])) throw unprocessable('Each channel.header entry must be "Name: value" with a valid HTTP field name', where);
    if (!FIELD_VALUE.test(pair[1])) throw unprocessable('A channel.header value may not hold line breaks or control characters', where);
    const name = pair[0].toLowerCase();
    if (RESERVED.has(name) || name.startsWith('proxy-') || name.startsWith('x-fhirgraph-')) {
      throw unprocessable(`channel.header may not set ${pair[0]}: the server sets it`, where);
    }
    return pair;
  });
}

/** True when `payload` names a JSON media type (`application/fhir+json`, `application/json`, with parameters). */
function isJsonPayload(payload: string): boolean {
  const type = payload.split(';', 1)[0].trim().toLowerCase();
  return type === 'application/fhir+json' || type === 'application/json' || type === 'application/json+fhir';
}

/**
 * Reads and checks a rest-hook channel (a 422 naming the element otherwise). `allowPrivate` is
 * `WEBHOOK_ALLOW_PRIVATE`.
 */
export function readRestHookChannel(resource: FhirResource, allowPrivate: boolean): RestHookChannel {
  const channel = channelOf(resource);
  if (!channel || channel.type !== 'rest-hook') throw unprocessable('The Subscription has no rest-hook channel', 'Subscription.channel.type');
  if (typeof channel.endpoint !== 'string') throw unprocessable('A rest-hook channel needs channel.endpoint', 'Subscription.channel.endpoint');
  const problem = endpointProblem(channel.endpoint, allowPrivate);
  if (problem) throw unprocessable(problem, 'Subscription.channel.endpoint');
  const payload = channel.payload;
  if (typeof payload === 'string' && !isJsonPayload(payload)) {
    throw unprocessable(`channel.payload ${payload.slice(0, 60)} is not supported: use application/fhir+json, or leave it out for notifications without a body`, 'Subscription.channel.payload');
  }
  return { endpoint: new URL(channel.endpoint), headers: readHeaders(channel), sendResource: typeof payload === 'string' };
}

/**
 * Request bodies of the REST facade: the accepted media types (FHIR JSON, plain JSON, JSON
 * Patch) are read as text by Fastify and parsed here, so malformed JSON answers 400 with an
 * OperationOutcome and decimals keep their exact digits. A Bundle body (up to `MAX_BODY`) is
 * split into its entries and parsed entry by entry in time slices, so other clients are served
 * while it is read; every other body (up to `MAX_RESOURCE_BODY`) is parsed in one go.
 */
import type { FastifyRequest } from 'fastify';
import { tooManyRepetitions } from '../fhir/assert-resource-bounds.ts';
import { findLongArray } from '../fhir/find-long-array.ts';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { badRequest, unsupportedMediaType } from '../fhir/outcomes.ts';
import { splitBundleText } from '../fhir/split-bundle-text.ts';
import { TimeSlice } from '../fhir/time-slice.ts';

/** Media types whose bodies are accepted as JSON text. */
export const JSON_MEDIA_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir', 'application/json-patch+json'];

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** True on the routes of `Binary` content (routes/binary-routes.ts: reads and writes, raw or FHIR JSON). */
export function servesBinary(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { binary?: boolean } | undefined)?.binary === true;
}

/** True when a write to a `Binary` route sends raw content: a body whose media type is not a FHIR (JSON) one. */
export function takesRawBinary(request: FastifyRequest): boolean {
  return servesBinary(request) && request.method !== 'GET' && !JSON_MEDIA_TYPES.includes(mediaType(request));
}

/** Parses JSON text of a body; 400 when it is malformed. */
function parseJsonText(text: string): unknown {
  try {
    return parseFhirJson(text);
  } catch (err) {
    if (err instanceof RangeError) throw badRequest('The JSON body is nested too deeply');
    const message = err instanceof Error ? err.message.slice(0, 160) : 'invalid JSON';
    throw badRequest(`The body is not valid JSON: ${message}`);
  }
}

/** The body's text; 400 when there is none. */
function bodyText(request: FastifyRequest): string {
  const text = request.body;
  if (typeof text !== 'string' || text.trim() === '') throw badRequest('A JSON request body is required');
  return text;
}

/** Parses the JSON body; 400 when it is missing or malformed. */
export function readJsonBody(request: FastifyRequest): unknown {
  return parseJsonText(bodyText(request));
}

/**
 * Parses a Bundle body (a batch or transaction, or a Bundle resource) entry by entry, pausing for
 * other clients between slices: its text is split without parsing, each entry's text checked for
 * an array over `maxRepeats` items (`RESOURCE_MAX_REPEATS`, 422) and parsed on its own. Text that
 * cannot be split is parsed whole, as any other body.
 */
export async function readBundleBody(request: FastifyRequest, maxRepeats: number): Promise<unknown> {
  if (mediaType(request) === 'application/json-patch+json') throw unsupportedMediaType('A Bundle body must be application/fhir+json');
  const text = bodyText(request);
  const slice = new TimeSlice();
  const split = await splitBundleText(text, maxRepeats, slice);
  if (split === 'too-many') throw tooManyRepetitions({ path: '.entry', resourceType: 'Bundle' }, maxRepeats);
  const pieces = split ? [split.shell, ...split.entries] : [text];
  const values: unknown[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const long = findLongArray(pieces[i], maxRepeats);
    if (long) throw tooManyRepetitions({ path: i === 0 ? long.path : `.entry[${i - 1}]${long.path}`, resourceType: 'Bundle' }, maxRepeats);
    values.push(parseJsonText(pieces[i]));
    await slice.yieldIfDue();
  }
  if (!split) return values[0];
  const bundle = values[0] as Record<string, unknown>;
  bundle.entry = values.slice(1);
  return bundle;
}

/**
 * Parses a resource body for a URL of `type`: a `Bundle` entry by entry ({@link readBundleBody}),
 * any other type in one go ({@link readResourceBody}).
 */
export async function readTypedBody(request: FastifyRequest, type: string, maxRepeats: number): Promise<unknown> {
  return type === 'Bundle' ? readBundleBody(request, maxRepeats) : readResourceBody(request);
}

/**
 * The body of a resource write for a URL of `type`, as the service takes it: a `Bundle` parsed
 * entry by entry now ({@link readBundleBody}), any other type parsed only when the service asks
 * for it, after the interaction's opening checks.
 */
export async function typedBodySource(request: FastifyRequest, type: string, maxRepeats: number): Promise<unknown> {
  return type === 'Bundle' ? readBundleBody(request, maxRepeats) : () => readResourceBody(request);
}

/** Parses a resource body, refusing JSON Patch media types. */
export function readResourceBody(request: FastifyRequest): unknown {
  if (mediaType(request) === 'application/json-patch+json') throw unsupportedMediaType('A resource body must be application/fhir+json');
  return readJsonBody(request);
}

/** Parses a JSON Patch body; only `application/json-patch+json` is accepted for PATCH. */
export function readPatchBody(request: FastifyRequest): unknown {
  if (mediaType(request) !== 'application/json-patch+json') {
    throw unsupportedMediaType('PATCH takes a JSON Patch document (Content-Type: application/json-patch+json)');
  }
  return readJsonBody(request);
}

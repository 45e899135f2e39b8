/**
 * Request bodies of the REST facade: the accepted media types (FHIR JSON, plain JSON, JSON
 * Patch) are read as text by Fastify and parsed here, so malformed JSON answers 400 with an
 * OperationOutcome and decimals keep their exact digits.
 */
import type { FastifyRequest } from 'fastify';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { badRequest, unsupportedMediaType } from '../fhir/outcomes.ts';

/** Media types whose bodies are accepted as JSON text. */
export const JSON_MEDIA_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir', 'application/json-patch+json'];

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** Parses the JSON body; 400 when it is missing or malformed. */
export function readJsonBody(request: FastifyRequest): unknown {
  const text = request.body;
  if (typeof text !== 'string' || text.trim() === '') throw badRequest('A JSON request body is required');
  try {
    return parseFhirJson(text);
  } catch (err) {
    if (err instanceof RangeError) throw badRequest('The JSON body is nested too deeply');
    const message = err instanceof Error ? err.message.slice(0, 160) : 'invalid JSON';
    throw badRequest(`The body is not valid JSON: ${message}`);
  }
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

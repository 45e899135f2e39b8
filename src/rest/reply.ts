/**
 * Writing REST responses: FHIR JSON bodies (stored text sent as is, re-indented only for
 * `_pretty`), version headers (`ETag`, `Last-Modified`, `Location`) and the `Prefer: return=`
 * choice (https://hl7.org/fhir/R4/http.html#ops).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseFhirJson, stringifyFhirJson } from '../fhir/fhir-json.ts';
import { allOk, type OperationOutcome } from '../fhir/outcomes.ts';
import type { StoredVersion } from '../store/resource-repository.ts';
import { FHIR_JSON, wantsPretty } from './negotiate.ts';

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

/** Reads `Prefer: return=…`; representation by default. */
export function returnPreference(request: FastifyRequest): ReturnPreference {
  const prefer = request.headers.prefer;
  const match = typeof prefer === 'string' ? /return=(minimal|representation|OperationOutcome)/i.exec(prefer) : null;
  if (!match) return 'representation';
  const value = match[1].toLowerCase();
  return value === 'minimal' ? 'minimal' : value === 'operationoutcome' ? 'OperationOutcome' : 'representation';
}

/** Sends FHIR JSON text with the given status. */
export function sendJson(request: FastifyRequest, reply: FastifyReply, status: number, text: string): FastifyReply {
  const query = request.query as Record<string, unknown>;
  const body = wantsPretty(query?._pretty) ? stringifyFhirJson(parseFhirJson(text), 2) : text;
  return reply.code(status).type(FHIR_JSON).send(body);
}

/** Sends a FHIR value (not yet serialised) as JSON. */
export function sendValue(request: FastifyRequest, reply: FastifyReply, status: number, value: unknown): FastifyReply {
  const query = request.query as Record<string, unknown>;
  return reply.code(status).type(FHIR_JSON).send(stringifyFhirJson(value, wantsPretty(query?._pretty) ? 2 : undefined));
}

/** Sets `ETag` and `Last-Modified` for a version. */
export function setVersionHeaders(reply: FastifyReply, version: StoredVersion): void {
  reply.header('ETag', `W/"${version.versionId}"`);
  reply.header('Last-Modified', version.lastUpdated.toUTCString());
}

/**
 * Answers a write with the stored version according to `Prefer: return=`: the resource, nothing,
 * or an OperationOutcome.
 */
export function sendWritten(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  version: StoredVersion,
  fhirBaseUrl: string,
  options: { location?: boolean; message?: string } = {},
): FastifyReply {
  setVersionHeaders(reply, version);
  if (options.location) {
    reply.header('Location', `${fhirBaseUrl}/${version.resourceType}/${version.id}/_history/${version.versionId}`);
  }
  const preference = returnPreference(request);
  if (preference === 'minimal' || version.content === null) return reply.code(status).send();
  if (preference === 'OperationOutcome') {
    return sendValue(request, reply, status, allOk(options.message ?? `${version.resourceType}/${version.id} version ${version.versionId} stored`));
  }
  return sendJson(request, reply, status, version.content);
}

/** Sends an OperationOutcome. */
export function sendOutcome(request: FastifyRequest, reply: FastifyReply, status: number, outcome: OperationOutcome): FastifyReply {
  return sendValue(request, reply, status, outcome);
}

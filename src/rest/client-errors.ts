/**
 * Requests refused before any route runs, answered like every other error: an OperationOutcome
 * with its status (README "Errors"), never echoing the URL (it may carry PHI in search values, and
 * Fastify's default answers print it back). Two sources:
 * - Fastify's router (`frameworkErrors`): a path segment longer than the router accepts (414) or a
 *   broken percent-encoding (400);
 * - Node's HTTP parser (`clientErrorHandler`): a request line and headers over `maxHeaderSize`
 *   (414 when the request line alone is that long, else 431), a malformed request (400), a request
 *   not received in time (408). The socket is closed after the answer.
 * https://hl7.org/fhir/R4/http.html#ops  https://www.rfc-editor.org/rfc/rfc9110#name-414-uri-too-long
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { outcome } from '../fhir/outcomes.ts';
import { FHIR_JSON } from './negotiate.ts';

const LONG_SEGMENT = 'A path segment of the URL is longer than this server accepts';
const LONG_URL = 'The URL is longer than this server accepts: send a long search as POST /fhir/{type}/_search with a form body';
const LONG_HEADERS = 'The request headers are larger than this server accepts';

/** Fastify's `frameworkErrors`: router failures as OperationOutcomes. */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const [status, code, diagnostics] = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? [414, 'too-long', LONG_SEGMENT]
    : error.code === 'FST_ERR_BAD_URL'
      ? [400, 'invalid', 'The URL is not valid: a percent-encoded character is broken']
      : [400, 'invalid', 'The request cannot be routed'];
  void reply.code(status).type(FHIR_JSON).header('X-Request-Id', request.id).send(JSON.stringify(outcome('error', code, diagnostics)));
}

/** Where the request line ends in the bytes the parser had, or -1. */
function requestLineEnd(error: { rawPacket?: unknown }): number {
  const raw = error.rawPacket;
  return Buffer.isBuffer(raw) ? raw.indexOf('\r\n') : -1;
}

/** Node's `clientError` listener (Fastify's `clientErrorHandler`): a raw HTTP answer, then close. */
export function answerClientError(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status: number;
  let answer: ReturnType<typeof outcome>;
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const lineEnd = requestLineEnd(error);
    const longLine = lineEnd < 0 || lineEnd > 8 * 1024;
    status = longLine ? 414 : 431;
    answer = outcome('error', 'too-long', longLine ? LONG_URL : LONG_HEADERS);
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    answer = outcome('error', 'timeout', 'The request was not received in time');
  } else {
    status = 400;
    answer = outcome('error', 'structure', 'The HTTP request is malformed');
  }
  if (socket.writable) {
    const body = JSON.stringify(answer);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${FHIR_JSON}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

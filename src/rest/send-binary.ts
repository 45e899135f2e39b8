/**
 * Answers a `Binary` read as a stream (https://hl7.org/fhir/R4/http.html#binary): the content
 * itself with its own Content-Type, or the resource as FHIR JSON with `data` in base64, built as
 * the chunks arrive from the database. Either way the answer holds one chunk at a time, whatever
 * the size, and states its `Content-Length` up front. The handler waits for the last byte to go
 * out, so the transfer stays inside the request's scope (its statement timeout, connection slots
 * and deadline) and stops, database reads included, when the client goes away.
 */
import { AsyncResource } from 'node:async_hooks';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseFhirJson, stringifyFhirJson } from '../fhir/fhir-json.ts';
import type { BinaryRead } from '../service/binary/binary-service.ts';
import { isNotModified } from './conditional-read.ts';
import { FHIR_JSON, wantsPretty } from './negotiate.ts';
import { setVersionHeaders } from './reply.ts';

/** The chunks of a version's bytes, or of their base64 text, read on demand. */
export type ChunkSource = (as: 'bytes' | 'base64') => AsyncIterable<Buffer>;

/**
 * A readable over `pieces` whose reads run in the caller's async context (the request's query
 * scope), not in whichever socket event asks for the next piece; destroying it ends the source.
 */
function scopedReadable(pieces: AsyncIterable<Buffer>): Readable {
  const iterator = pieces[Symbol.asyncIterator]();
  const next = AsyncResource.bind(() => iterator.next());
  const stop = AsyncResource.bind(async () => { await iterator.return?.(undefined); });
  return new Readable({
    read() {
      next().then((step) => this.push(step.done ? null : step.value), (err: unknown) => this.destroy(err as Error));
    },
    destroy(err, callback) {
      stop().then(() => callback(err), () => callback(err));
    },
  });
}

/** Sends `pieces` (exactly `length` bytes) and resolves once the response is over, sent or abandoned. */
async function sendStream(reply: FastifyReply, pieces: AsyncIterable<Buffer>, length: number): Promise<FastifyReply> {
  reply.header('Content-Length', String(length));
  reply.send(scopedReadable(pieces));
  await finished(reply.raw).catch(() => undefined);
  return reply;
}

/** The header of a reference, when `securityContext` holds one. */
function securityContextOf(resource: Record<string, unknown>): string | undefined {
  const reference = (resource.securityContext as { reference?: unknown } | undefined)?.reference;
  return typeof reference === 'string' ? reference : undefined;
}

/**
 * The content as stored, with `Content-Type` = the Binary's `contentType` and its security context
 * in `X-Security-Context`. Browsers are told not to sniff it and to run nothing it holds (an
 * uploaded HTML page must not script this origin).
 */
export function sendBinaryContent(request: FastifyRequest, reply: FastifyReply, read: BinaryRead, chunks: ChunkSource): Promise<FastifyReply> | FastifyReply {
  setVersionHeaders(reply, read.version);
  if (isNotModified(request, read.version)) return reply.code(304).send();
  const resource = parseFhirJson(read.version.content!) as Record<string, unknown>;
  reply.code(200).header('Content-Type', typeof resource.contentType === 'string' ? resource.contentType : 'application/octet-stream');
  reply.header('X-Content-Type-Options', 'nosniff').header('Content-Security-Policy', 'sandbox');
  const securityContext = securityContextOf(resource);
  if (securityContext) reply.header('X-Security-Context', securityContext);
  if (!read.bytes) return reply.header('Content-Length', '0').send(Buffer.alloc(0));
  return sendStream(reply, chunks('bytes'), read.bytes.size);
}

/**
 * The resource as FHIR JSON (pretty with `_pretty=true`), `data` spliced in as base64 when the
 * version has bytes and `_summary`/`_elements` keep it.
 */
export function sendBinaryResource(request: FastifyRequest, reply: FastifyReply, read: BinaryRead, chunks: ChunkSource): Promise<FastifyReply> | FastifyReply {
  setVersionHeaders(reply, read.version);
  if (isNotModified(request, read.version)) return reply.code(304).send();
  const pretty = wantsPretty((request.query as Record<string, unknown> | undefined)?._pretty);
  const text = pretty ? stringifyFhirJson(parseFhirJson(read.version.content!), 2) : read.version.content!;
  reply.code(200).type(FHIR_JSON);
  if (!read.bytes || !read.dataWanted) return reply.send(text);
  const head = Buffer.from(`${text.slice(0, text.lastIndexOf('}')).trimEnd()}${pretty ? ',\n  "data": "' : ',"data":"'}`);
  const tail = Buffer.from(pretty ? '"\n}' : '"}');
  async function* body() {
    yield head;
    yield* chunks('base64');
    yield tail;
  }
  return sendStream(reply, body(), head.length + 4 * Math.ceil(read.bytes.size / 3) + tail.length);
}

/**
 * The schema worker's thread: it builds the served schema from the same model and code as the
 * main thread (`buildGraphSchema`, on its first job) and executes the operations that ask the
 * schema (`schema-operation.ts`: `__schema`, `__type`, `_service`), then serialises the answer to
 * JSON and gzips it, and hands both back as bytes the main thread sends as they are. Executing and
 * serialising the FHIR schema's 23 MB introspection takes seconds; here it blocks no request. The
 * thread runs at the lowest CPU priority, and compresses on itself rather than on libuv's pool, so
 * where cores are few the main thread's requests come first.
 * https://nodejs.org/api/worker_threads.html
 */
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { basename } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { execute, parse, type GraphQLSchema } from 'graphql';
import { loadFhirModel } from '../fhir/fhir-model.ts';
import { buildGraphSchema } from './build-graph-schema.ts';
import { formatGraphQLError } from './graphql-errors.ts';

/** An operation for the thread: the request's text, operation name and variables (validated and costed already). */
export interface SchemaJob {
  id: number;
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
}

/** The thread's answer to a job: `{"data":…}` (or with `errors`) as JSON bytes and gzipped, or why it failed. */
export type SchemaReply =
  | { id: number; json: Uint8Array; gzip: Uint8Array | undefined; failed: boolean }
  | { id: number; error: string };

/** Answers smaller than this are not gzipped (as `@fastify/compress`'s threshold). */
const GZIP_THRESHOLD = 1024;

let schema: GraphQLSchema | undefined;

/**
 * Gives this thread the lowest CPU priority. On Linux a thread has a nice value of its own, set
 * through its thread id (`/proc/thread-self`); elsewhere, or where it is not allowed, the thread
 * keeps the process's priority.
 */
function lowerPriority(): void {
  try {
    const tid = Number(basename(readlinkSync('/proc/thread-self')));
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, constants.priority.PRIORITY_LOW);
  } catch {
    // Not Linux: nothing to do.
  }
}

/** Bytes that own their whole buffer, so it can be transferred (small Buffers share a pool). */
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

async function answer(job: SchemaJob): Promise<SchemaReply> {
  schema ??= buildGraphSchema(loadFhirModel());
  const result = await execute({ schema, document: parse(job.query, { noLocation: true }), operationName: job.operationName, variableValues: job.variables });
  const errors = result.errors?.map((error) => formatGraphQLError(error.toJSON(), error));
  const json = owned(new TextEncoder().encode(JSON.stringify(errors ? { errors, data: result.data } : { data: result.data })));
  const zipped = json.byteLength >= GZIP_THRESHOLD ? owned(gzipSync(json)) : undefined;
  return { id: job.id, json, gzip: zipped, failed: errors !== undefined };
}

lowerPriority();
parentPort?.on('message', (job: SchemaJob) => {
  void answer(job).then(
    (reply) => {
      const transfer = 'json' in reply ? [reply.json.buffer, ...(reply.gzip ? [reply.gzip.buffer] : [])] : [];
      parentPort!.postMessage(reply, transfer as ArrayBuffer[]);
    },
    (err: unknown) => parentPort!.postMessage({ id: job.id, error: String((err as Error)?.message ?? err).slice(0, 300) } satisfies SchemaReply),
  );
});

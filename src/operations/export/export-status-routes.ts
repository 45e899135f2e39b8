/**
 * The routes an export is followed through, outside `/fhir` because files are NDJSON, not FHIR
 * JSON (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-status-request):
 *
 * - `GET /bulk/{id}`: 202 with `X-Progress` and `Retry-After` while it runs; 200 with the
 *   manifest (and `Expires`) once complete; 500 with an OperationOutcome when it failed.
 * - `DELETE /bulk/{id}`: cancels it and deletes its files (202); it is unknown afterwards.
 * - `GET /bulk/{id}/files/{n}.ndjson`: a file, `application/fhir+ndjson`, streamed from the
 *   database a piece (48 KiB) at a time.
 *
 * Only the client that kicked the export off sees it: for any other, and for a cancelled or
 * expired export, these answer 404. Every request is audited (status and downloads R, cancel D);
 * everything is read from PostgreSQL, so any server process answers.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { allOk, FhirError, notFound, outcome } from '../../fhir/outcomes.ts';
import { auditRecordOf, type RequestContext } from '../../service/request-context.ts';
import { sendOutcome } from '../../rest/reply.ts';
import type { FhirRoute, Params, RouteDeps } from '../../rest/fhir-route.ts';
import type { Database } from '../../store/database.ts';
import {
  deleteExportJob, listExportChunks, listExportFiles, readCompletedExportFile, readExportChunkPiece, readExportJob, type ExportJob,
} from '../../store/export-repository.ts';
import { runOutsideQueryScope } from '../../store/query-scope.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FILE_NAME = /^([1-9][0-9]{0,8})\.ndjson$/;
/** What a download is sent as (the IG's media type for NDJSON of FHIR resources). */
export const NDJSON_MEDIA_TYPE = 'application/fhir+ndjson';

/** The export id of a URL, or 404 (an id of another shape is nobody's export). */
function exportIdOf(request: FastifyRequest): string {
  const id = (request.params as Params).id ?? '';
  if (!UUID.test(id)) throw notFound(`There is no export ${id.slice(0, 64)}`);
  return id;
}

/** Records the request's AuditEvent now, naming the export (and file) in its outcome description. */
function audit(deps: RouteDeps, ctx: RequestContext, status: number, description: string): void {
  deps.security.auditLog.enqueue(auditRecordOf(ctx, status, description));
  ctx.audit.recorded = true;
}

const unknownExport = (id: string) => notFound(`Export ${id} is not known: it expired, was cancelled, or was started by another client`);

/** The status URL of an export. */
export function statusUrl(publicUrl: string, id: string): string {
  return `${publicUrl}/bulk/${id}`;
}

/** The manifest of a completed export (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status). */
async function manifestOf(db: Database, publicUrl: string, job: ExportJob): Promise<Record<string, unknown>> {
  const files = await listExportFiles(db, job.id);
  const entry = (f: { fileNo: number; resourceType: string; lineCount: number }) => ({
    type: f.resourceType, url: `${statusUrl(publicUrl, job.id)}/files/${f.fileNo}.ndjson`, count: f.lineCount,
  });
  return {
    transactionTime: new Date(job.transactionTime).toISOString(),
    request: job.request,
    requiresAccessToken: true,
    output: files.filter((f) => f.kind === 'output').map(entry),
    error: files.filter((f) => f.kind === 'error').map(entry),
  };
}

/** `GET /bulk/{id}`. */
async function status(request: FastifyRequest, reply: FastifyReply, deps: RouteDeps): Promise<unknown> {
  const ctx = deps.context(request);
  ctx.audit.begin('R', 'operation');
  const id = exportIdOf(request);
  const job = await readExportJob(deps.service.db, id, ctx.auth.clientId);
  if (!job) throw unknownExport(id);
  switch (job.status) {
    case 'accepted':
    case 'in-progress': {
      const type = job.types[Math.min(job.typeIndex, job.types.length - 1)];
      reply.header('X-Progress', `${job.status}: ${job.exported} resources exported; type ${Math.min(job.typeIndex + 1, job.types.length)} of ${job.types.length} (${type})`);
      reply.header('Retry-After', '2');
      audit(deps, ctx, 202, `Bulk Data export ${id}: status ${job.status}`);
      return reply.code(202).send();
    }
    case 'failed':
      throw new FhirError(500, outcome('error', 'exception', job.error ?? 'The export failed'));
    case 'completed':
      reply.header('Expires', new Date(job.expiresAt).toUTCString());
      audit(deps, ctx, 200, `Bulk Data export ${id}: manifest`);
      // The IG's complete-status answer is plain JSON (the manifest is not a FHIR resource).
      return reply.code(200).type('application/json').send(JSON.stringify(await manifestOf(deps.service.db, deps.config.publicUrl, job)));
  }
}

/** `DELETE /bulk/{id}`. */
async function cancel(request: FastifyRequest, reply: FastifyReply, deps: RouteDeps): Promise<unknown> {
  const ctx = deps.context(request);
  ctx.audit.begin('D', 'operation');
  const id = exportIdOf(request);
  if (!(await deleteExportJob(deps.service.db, id, ctx.auth.clientId))) throw unknownExport(id);
  audit(deps, ctx, 202, `Bulk Data export ${id}: cancelled, files deleted`);
  return sendOutcome(request, reply, 202, allOk(`Export ${id} cancelled; its files are deleted`));
}

/** Bytes read per statement while a file is downloaded (96 KB as hex on the wire: below V8's large-object size). */
const PIECE = 48 * 1024;
/** Chunks listed per statement. */
const LISTED = 100;

/**
 * The bytes of a file, read a piece at a time as the client takes them (outside the request's
 * deadline: a large file takes as long as the client needs). A file cancelled or expired while
 * it is read ends early.
 */
async function* fileBytes(db: Database, id: string, fileNo: number): AsyncGenerator<Buffer> {
  let after = 0;
  for (;;) {
    const chunks = await runOutsideQueryScope(() => listExportChunks(db, id, fileNo, after, LISTED));
    if (chunks.length === 0) return;
    for (const chunk of chunks) {
      for (let start = 1; start <= chunk.length; start += PIECE) {
        const piece = await runOutsideQueryScope(() => readExportChunkPiece(db, id, fileNo, chunk.chunkNo, start, PIECE));
        if (piece === undefined) return;
        yield piece;
      }
      after = chunk.chunkNo;
    }
  }
}

/** `GET /bulk/{id}/files/{n}.ndjson`. */
async function download(request: FastifyRequest, reply: FastifyReply, deps: RouteDeps): Promise<unknown> {
  const ctx = deps.context(request);
  ctx.audit.begin('R', 'operation');
  const id = exportIdOf(request);
  const name = FILE_NAME.exec((request.params as Params).file ?? '');
  if (!name) throw notFound('An export file is named {n}.ndjson');
  const fileNo = Number(name[1]);
  const file = await readCompletedExportFile(deps.service.db, id, ctx.auth.clientId, fileNo);
  if (!file) throw notFound(`Export ${id} has no file ${fileNo} (it may not be complete, may have expired or been cancelled, or belong to another client)`);
  audit(deps, ctx, 200, `Bulk Data export ${id}: file ${fileNo} downloaded (${file.lineCount} ${file.resourceType})`);
  reply.type(NDJSON_MEDIA_TYPE);
  return reply.code(200).send(Readable.from(fileBytes(deps.service.db, id, fileNo), { objectMode: false, highWaterMark: 4 * PIECE }));
}

/** The status, cancel and download routes. */
export const exportStatusRoutes: FhirRoute[] = [
  { method: 'GET', url: '/bulk/:id', capabilities: [{ level: 'none' }], handler: status },
  { method: 'DELETE', url: '/bulk/:id', capabilities: [{ level: 'none' }], handler: cancel },
  { method: 'GET', url: '/bulk/:id/files/:file', capabilities: [{ level: 'none' }], handler: download },
];

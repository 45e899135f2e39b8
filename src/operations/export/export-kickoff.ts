/**
 * Kick-off of a Bulk Data export (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-kick-off-request):
 * `Prefer: respond-async` is required (400 otherwise), the parameters are checked
 * (export-request.ts), a client may have `EXPORT_MAX_PER_CLIENT` exports accepted or running
 * (429 with `Retry-After` beyond), and the export, its first job and the request's AuditEvent are
 * stored in one transaction. The answer is 202 with `Content-Location`, the status URL.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { allOk, badRequest, FhirError, notFound, outcome } from '../../fhir/outcomes.ts';
import { auditRecordOf } from '../../service/request-context.ts';
import { readCurrent } from '../../store/resource-repository.ts';
import { countRunningExports, createExportJob, type ExportLevel } from '../../store/export-repository.ts';
import { sendOutcome } from '../../rest/reply.ts';
import type { OperationCall } from '../operation.ts';
import { EXPORT_QUEUE, type ExportSliceJob } from './export-jobs.ts';
import { planExport } from './export-request.ts';
import type { ExportServices } from './export-services.ts';

/** Advisory-lock namespace ("fgex") serialising one client's kick-offs, so the per-client cap holds. */
const KICKOFF_LOCK = 0x66676578;

/** True when a `Prefer` header asks for `respond-async`. */
function prefersAsync(request: FastifyRequest): boolean {
  const prefer = request.headers.prefer;
  const values = Array.isArray(prefer) ? prefer : [prefer ?? ''];
  return values.some((v) => v.split(/[,;]/).some((token) => token.trim().toLowerCase() === 'respond-async'));
}

/** The Patient ids among a Group's members (`Patient/x`, or an absolute URL of this server). */
function memberPatients(group: Record<string, unknown>, fhirBaseUrl: string): string[] {
  const members = Array.isArray(group.member) ? group.member : [];
  const ids = new Set<string>();
  for (const member of members as { entity?: { reference?: unknown } }[]) {
    let reference = typeof member?.entity?.reference === 'string' ? member.entity.reference : '';
    if (reference.startsWith(`${fhirBaseUrl}/`)) reference = reference.slice(fhirBaseUrl.length + 1);
    const [type, id, ...rest] = reference.split('/');
    if (type === 'Patient' && id && rest.length === 0) ids.add(id);
  }
  return [...ids];
}

/** Kicks off an export at `level`; answers 202 with the status URL. */
export async function kickOffExport(exports: ExportServices, level: ExportLevel, call: OperationCall): Promise<unknown> {
  const { request, reply, deps, ctx, id, params } = call;
  const { config } = exports;
  if (!prefersAsync(request)) throw badRequest('A Bulk Data export runs asynchronously: send Prefer: respond-async', 'Prefer');
  const plan = planExport(deps.service.model, ctx, config.limits.search, level, params);
  let patientIds: string[] | undefined;
  if (level === 'group') {
    ctx.audit.touch(`Group/${id!}`);
    const group = await readCurrent(deps.service.db, 'Group', id!);
    if (!group || group.deleted || group.content === null) throw notFound(`Group/${id!} is not known`);
    patientIds = memberPatients(JSON.parse(group.content) as Record<string, unknown>, ctx.fhirBaseUrl);
  }
  const exportId = randomUUID();
  const clientId = ctx.auth.clientId;
  const { maxPerClient, retentionMs } = config.export;
  await deps.service.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [KICKOFF_LOCK, clientId]);
    if ((await countRunningExports(tx, clientId)) >= maxPerClient) {
      throw new FhirError(429, outcome('error', 'throttled',
        `This client already has ${maxPerClient} exports accepted or running (EXPORT_MAX_PER_CLIENT): wait for one to complete, or cancel one`), { 'Retry-After': '30' });
    }
    await createExportJob(tx, {
      id: exportId, clientId, request: `${config.publicUrl}${request.url}`, level, groupId: id, patientIds,
      types: plan.types, typeFilters: plan.typeFilters, since: plan.since, leftOut: plan.leftOut, retentionMs,
    });
    await exports.queue.enqueue<ExportSliceJob>(tx, EXPORT_QUEUE, [{ data: { exportId } }]);
    await deps.service.auditLog.writeInTransaction(tx, auditRecordOf(ctx, 202, `Bulk Data export ${exportId} kicked off (resource types: ${plan.types.length})`));
  });
  ctx.audit.recorded = true;
  exports.metrics?.exportJob('accepted');
  exports.wake();
  reply.header('Content-Location', `${config.publicUrl}/bulk/${exportId}`);
  return sendOutcome(request, reply, 202, allOk(`Export ${exportId} accepted: poll ${config.publicUrl}/bulk/${exportId} for its status`));
}

/**
 * Every client's exports for admin clients (the operator console's export page):
 *
 * - `GET /admin/exports`: `{"exports": [{id, client_id, status, request, types, progress, error,
 *   transaction_time, expires_at}]}`, newest first, at most 200, expired ones left out;
 * - `DELETE /admin/exports/{id}`: cancels any client's export and deletes its files (202).
 *
 * Admin-only (403 otherwise) and audited like the client-management routes; the client that
 * kicked an export off keeps its own routes (`/bulk/{id}`).
 */
import { allOk, forbidden, notFound } from '../../fhir/outcomes.ts';
import type { RequestContext } from '../../service/request-context.ts';
import { sendOutcome } from '../../rest/reply.ts';
import type { FhirRoute, Params } from '../../rest/fhir-route.ts';
import { deleteAnyExportJob, listExportJobs, type ExportJobSummary } from '../../store/export-repository.ts';

/** How many exports one listing shows (exports expire after `EXPORT_RETENTION`, so few are kept). */
const LISTED = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function requireAdmin(ctx: RequestContext, action: 'R' | 'D'): void {
  ctx.audit.begin(action, 'export-admin');
  if (!ctx.auth.admin) throw forbidden('Only admin clients may list or cancel every client\'s exports');
}

/** The progress line `GET /bulk/{id}` sends as `X-Progress`, for a listed export. */
function progressOf(job: ExportJobSummary): string {
  if (job.status === 'completed' || job.status === 'failed') return `${job.status}: ${job.exported} resources exported`;
  const type = job.types[Math.min(job.typeIndex, job.types.length - 1)];
  return `${job.status}: ${job.exported} resources exported; type ${Math.min(job.typeIndex + 1, job.types.length)} of ${job.types.length} (${type})`;
}

/** The admin routes over exports. */
export const exportAdminRoutes: FhirRoute[] = [
  {
    method: 'GET',
    url: '/admin/exports',
    capabilities: [{ level: 'none' }],
    async handler(request, reply, deps) {
      requireAdmin(deps.context(request), 'R');
      const jobs = await listExportJobs(deps.service.db, LISTED);
      const exports = jobs.map((job) => ({
        id: job.id, client_id: job.clientId, status: job.status, request: job.request, types: job.types, exported: job.exported,
        progress: progressOf(job), error: job.error, transaction_time: new Date(job.transactionTime).toISOString(), expires_at: new Date(job.expiresAt).toISOString(),
      }));
      return reply.header('cache-control', 'no-store').type('application/json').send(JSON.stringify({ exports }));
    },
  },
  {
    method: 'DELETE',
    url: '/admin/exports/:id',
    capabilities: [{ level: 'none' }],
    async handler(request, reply, deps) {
      requireAdmin(deps.context(request), 'D');
      const id = (request.params as Params).id ?? '';
      if (!UUID.test(id) || !(await deleteAnyExportJob(deps.service.db, id))) throw notFound(`There is no export ${id.slice(0, 64)}`);
      return sendOutcome(request, reply, 202, allOk(`Export ${id} cancelled; its files are deleted`));
    },
  },
];

/**
 * One slice of an export's work: chunk after chunk, each written by PostgreSQL from an export
 * page (src/search/sql/build-export-page.ts) together with the checkpoint that follows it, in one
 * transaction that first claims the export's next step. A process killed mid-slice therefore
 * leaves the last committed chunk and its checkpoint, and whoever takes the export over resumes
 * exactly there: no line is lost or written twice. Two runners of one export (a slow slice and its
 * retry) cannot interleave either: the step one claims is gone for the other, which stops.
 */
import type { ExportConfig } from '../../config.ts';
import type { FhirModel } from '../../fhir/fhir-model.ts';
import { buildExportPage } from '../../search/sql/build-export-page.ts';
import { buildAuditExportPage } from '../../store/audit-search-sql.ts';
import type { SearchCriterion } from '../../search/search-request.ts';
import type { SearchLimits } from '../../config.ts';
import type { Database } from '../../store/database.ts';
import {
  addToExportFile, claimExportStep, completeExportJob, countInFlightAtKickoff, readExportJob, saveExportCheckpoint,
  writeExportChunk, writeWholeExportFile, type ExportCheckpoint, type ExportJob,
} from '../../store/export-repository.ts';
import { parseTypeFilter, patientCompartmentParams } from './export-request.ts';

/** What a runner needs. */
export interface ExportRunnerDeps {
  db: Database;
  model: FhirModel;
  config: ExportConfig;
  searchLimits: SearchLimits;
  fhirBaseUrl: string;
}

/** How a slice ended: the export is complete, has more to do, or is no longer this runner's (taken over, cancelled, expired). */
export type SliceResult = 'completed' | 'more' | 'gone';

/** How long an export waits at most for writes in flight at its kick-off to end (ms). */
const IN_FLIGHT_WAIT_MS = 10_000;

/** The `_typeFilter`s of a job by type, parsed again (they were checked at kick-off). */
function parsedFilters(deps: ExportRunnerDeps, job: ExportJob): Map<string, SearchCriterion[][]> {
  const filters = new Map<string, SearchCriterion[][]>();
  for (const [type, queries] of Object.entries(job.typeFilters)) {
    filters.set(type, queries.map((query) => parseTypeFilter(deps.model, deps.searchLimits, `${type}?${query}`).criteria));
  }
  return filters;
}

/** Waits (bounded) until the writes of this database in flight at the kick-off have ended. */
async function awaitKickoffWrites(db: Database, job: ExportJob): Promise<void> {
  const deadline = Date.now() + IN_FLIGHT_WAIT_MS;
  while (Date.now() < deadline && (await countInFlightAtKickoff(db, job.kickoffSnapshot)) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The OperationOutcome line naming the types left out for want of scope. */
function leftOutLine(job: ExportJob): string {
  return JSON.stringify({
    resourceType: 'OperationOutcome',
    issue: [{
      severity: 'warning', code: 'forbidden',
      diagnostics: `Not exported, because the access token may not read them: ${job.leftOut.join(', ')}`,
    }],
  });
}

/** Runs one slice of export `exportId` for at most `sliceMs` (and the chunk under way). */
export async function runExportSlice(deps: ExportRunnerDeps, exportId: string, sliceMs: number): Promise<SliceResult> {
  const { db, config } = deps;
  const job = await readExportJob(db, exportId);
  if (!job || (job.status !== 'accepted' && job.status !== 'in-progress')) return 'gone';
  if (job.status === 'accepted') await awaitKickoffWrites(db, job);
  const filters = parsedFilters(deps, job);
  const transactionTime = new Date(job.transactionTime);
  const since = job.since ? new Date(job.since) : undefined;
  const state: ExportCheckpoint = { typeIndex: job.typeIndex, afterId: job.afterId, fileNo: job.fileNo, fileLines: job.fileLines, exported: job.exported };
  let step = job.step;
  const deadline = Date.now() + sliceMs;
  while (Date.now() < deadline) {
    const done = state.typeIndex >= job.types.length;
    const claimed = await db.transaction(async (tx) => {
      const mine = await claimExportStep(tx, exportId, step);
      if (mine === undefined) return undefined;
      if (done) {
        if (job.leftOut.length > 0) {
          await writeWholeExportFile(tx, exportId, { fileNo: state.fileNo + 1, resourceType: 'OperationOutcome', kind: 'error', lineCount: 1 }, mine, [leftOutLine(job)]);
        }
        await completeExportJob(tx, exportId, config.retentionMs);
        return mine;
      }
      const type = job.types[state.typeIndex];
      const opening = state.fileLines === 0 || state.fileLines >= config.fileResources;
      const fileNo = opening ? state.fileNo + 1 : state.fileNo;
      const linesBefore = opening ? 0 : state.fileLines;
      const level = job.level;
      // AuditEvents are rows of the audit trail's own table (src/store/audit-search-sql.ts).
      const page = type === 'AuditEvent' ? buildAuditExportPage({
        transactionTime, since, afterId: state.afterId, limit: Math.min(config.chunkResources, config.fileResources - linesBefore),
        filters: filters.get(type) ?? [], compartment: level === 'system' ? undefined : { patientIds: job.patientIds ?? undefined },
      }, deps.fhirBaseUrl) : buildExportPage({
        resourceType: type,
        transactionTime,
        since,
        afterId: state.afterId,
        limit: Math.min(config.chunkResources, config.fileResources - linesBefore),
        filters: filters.get(type) ?? [],
        compartment: level === 'system' ? undefined : { params: patientCompartmentParams(deps.model, type), patientIds: job.patientIds ?? undefined },
      }, deps.model, deps.fhirBaseUrl);
      const chunk = await writeExportChunk(tx, { jobId: exportId, fileNo, chunkNo: mine, maxBytes: config.chunkBytes }, page);
      if (!chunk) {
        // The type is done: the next one opens a file of its own.
        Object.assign(state, { typeIndex: state.typeIndex + 1, afterId: '', fileLines: 0 });
      } else {
        await addToExportFile(tx, exportId, { fileNo, resourceType: type, kind: 'output', lineCount: chunk.lines });
        Object.assign(state, { afterId: chunk.lastId, fileNo, fileLines: linesBefore + chunk.lines, exported: state.exported + chunk.lines });
      }
      await saveExportCheckpoint(tx, exportId, state);
      return mine;
    });
    if (claimed === undefined) return 'gone';
    step = claimed;
    if (done) return 'completed';
  }
  return 'more';
}

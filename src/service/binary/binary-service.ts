/**
 * `Binary` content through the core service (https://hl7.org/fhir/R4/binary.html,
 * https://hl7.org/fhir/R4/http.html#binary): a raw upload (the body is the content, its
 * Content-Type the Binary's `contentType`) is opened like any create or update (audit, type,
 * scope, id), checked against the owner rule and `If-Match` before a byte is read, then streamed
 * into the database chunk by chunk and written through the one write path (`applyWrites`) in the
 * same transaction as its version, change event and AuditEvent. Reads answer the version and
 * where its bytes are, which the facade streams chunk by chunk.
 */
import { randomUUID } from 'node:crypto';
import { payloadTooLarge } from '../../fhir/outcomes.ts';
import type { ResourceShape } from '../../search/shape-resource.ts';
import { readBinaryContent, readBlobChunks, writeBlob, type BinaryContentRef } from '../../store/binary-store.ts';
import type { Database } from '../../store/database.ts';
import { lockResources, readCurrent, type StoredVersion } from '../../store/resource-repository.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { authorize, authorizeOwnership } from '../authorize.ts';
import { parseIfMatch } from '../if-match.ts';
import { startInteraction } from '../interaction-start.ts';
import { auditRecordOf, type RequestContext } from '../request-context.ts';
import type { FhirResource } from '../resource-content.ts';
import { applyWrites, assertValidInSlices, checkIfMatch, type WriteResult, type WriteRules } from '../write-ops.ts';
import type { FhirModel } from '../../fhir/fhir-model.ts';
import { shapeKeepsData } from './binary-json.ts';

/** A raw upload: the content's media type, the `X-Security-Context` reference, and the bytes as they arrive. */
export interface BinaryUpload {
  contentType: string;
  securityContext?: string;
  content: AsyncIterable<Uint8Array>;
}

/** A Binary version read, and whether and where its bytes are. */
export interface BinaryRead {
  /** The version; its content is the JSON without `data`, cut to the read's shape. */
  version: StoredVersion;
  /** Where the version's bytes are (none: it has no content). */
  bytes?: BinaryContentRef;
  /** False when `_summary`/`_elements` leave `data` out of a FHIR read. */
  dataWanted: boolean;
}

/** What the Binary side of the service needs. */
export interface BinaryServiceDeps {
  db: Database;
  auditLog: AuditLog;
  model: FhirModel;
  writeRules: WriteRules;
  /** The largest content given back inline as base64 (GraphQL `Binary.data`). */
  maxInlineBytes: number;
  /** The core service's read and vread, so a Binary read opens, audits and answers 404/410 like any other. */
  read(ctx: RequestContext, id: string, versionId: string | undefined, shape: { summary?: string; elements?: string }): Promise<{ version: StoredVersion; shape: ResourceShape }>;
}

/** Binary uploads and reads. */
export class BinaryService {
  constructor(private readonly deps: BinaryServiceDeps) {}

  /** Creates a Binary from a raw upload (`POST /fhir/Binary`). */
  create(ctx: RequestContext, upload: BinaryUpload): Promise<WriteResult> {
    startInteraction(ctx, this.deps.model, { action: 'C', interaction: 'create', types: ['Binary'], permissions: [['Binary', 'c']] });
    return this.store(ctx, { id: randomUUID(), create: true }, upload);
  }

  /** Updates (or creates, with the client's id) a Binary from a raw upload (`PUT /fhir/Binary/{id}`). */
  update(ctx: RequestContext, id: string, upload: BinaryUpload, ifMatch?: string): Promise<WriteResult> {
    startInteraction(ctx, this.deps.model, { action: 'U', interaction: 'update', types: ['Binary'], permissions: [['Binary', 'u']], id });
    return this.store(ctx, { id, create: false, ifMatch: ifMatch === undefined ? undefined : parseIfMatch(ifMatch) }, upload);
  }

  private async store(ctx: RequestContext, target: { id: string; create: boolean; ifMatch?: number }, upload: BinaryUpload): Promise<WriteResult> {
    const { db, writeRules } = this.deps;
    const resource: FhirResource = { resourceType: 'Binary', id: target.id, contentType: upload.contentType };
    if (upload.securityContext !== undefined) resource.securityContext = { reference: upload.securityContext };
    await assertValidInSlices(resource, 'Binary', writeRules.resource);
    const result = await db.transaction(async (tx) => {
      if (!target.create) {
        // Refusals first: a client that may not replace this Binary is told before it sends the bytes.
        const state = (await lockResources(tx, [{ resourceType: 'Binary', id: target.id }])).get(`Binary/${target.id}`);
        authorizeOwnership(ctx, 'Binary', state?.createdBy);
        checkIfMatch(target.ifMatch, state && !state.deleted ? state.versionId : undefined, `Binary/${target.id}`);
      }
      const bytes = await writeBlob(tx, upload.content, writeRules.maxBinaryBytes);
      const op = target.create
        ? { kind: 'create' as const, resourceType: 'Binary', id: target.id, resource, binary: bytes }
        : { kind: 'update' as const, resourceType: 'Binary', id: target.id, resource, binary: bytes, ifMatch: target.ifMatch };
      const [written] = await applyWrites(tx, [op], ctx, writeRules, { audit: ([result]) => auditRecordOf(ctx, result.created ? 201 : 200) });
      return written;
    });
    ctx.audit.recorded = true;
    return result;
  }

  /**
   * Reads a Binary's current version (or version `versionId`) as the core read and vread do
   * (404, 410, `_summary`/`_elements`), and where its bytes are.
   */
  async read(ctx: RequestContext, id: string, versionId: string | undefined, shape: { summary?: string; elements?: string } = {}): Promise<BinaryRead> {
    const { version, shape: wanted } = await this.deps.read(ctx, id, versionId, shape);
    const bytes = await readBinaryContent(this.deps.db, id, version.versionId);
    return { version, bytes, dataWanted: shapeKeepsData(wanted) };
  }

  /** The bytes of a version read, chunk by chunk, or the bytes of their base64 text (in the caller's request scope). */
  chunks(bytes: BinaryContentRef, as: 'bytes' | 'base64' = 'bytes'): AsyncGenerator<Buffer> {
    return readBlobChunks(this.deps.db, bytes, as);
  }

  /**
   * A Binary version's content as base64 (undefined `versionId`: the current version's), for
   * answers built in memory (GraphQL `Binary.data`):
   * null when it has none, 413 beyond the inline limit (the raw read streams any size).
   */
  async inlineData(ctx: RequestContext, id: string, versionId: number | undefined): Promise<string | null> {
    authorize(ctx, 'Binary', 'r');
    const version = versionId ?? (await readCurrent(this.deps.db, 'Binary', id))?.versionId;
    const bytes = version === undefined ? undefined : await readBinaryContent(this.deps.db, id, version);
    if (!bytes) return null;
    if (bytes.size > this.deps.maxInlineBytes) {
      throw payloadTooLarge(`Binary/${id} holds ${bytes.size} bytes, more than ${this.deps.maxInlineBytes} (MAX_RESOURCE_BODY) can be returned inline: read it from GET /fhir/Binary/${id}`);
    }
    const pieces: Buffer[] = [];
    for await (const text of this.chunks(bytes, 'base64')) pieces.push(text);
    return Buffer.concat(pieces).toString('latin1');
  }
}

/**
 * The bytes of `Binary` resources (DECISIONS.md §3; tables in migration 0008): written as a blob
 * of `bytea` chunks of {@link CHUNK_BYTES} while they arrive, so an upload of `MAX_BINARY` never
 * sits in memory as one piece, and read back chunk by chunk, one statement per chunk, so a
 * download holds one chunk at a time. Each Binary version names its blob (`binary_content`);
 * every statement runs in the caller's transaction or request scope, so a failed upload leaves
 * nothing behind. https://hl7.org/fhir/R4/binary.html
 */
import { randomUUID } from 'node:crypto';
import { payloadTooLarge } from '../fhir/outcomes.ts';
import type { Queryable } from './database.ts';

/**
 * Bytes per stored chunk: 48 KiB, a multiple of 3, so every chunk but the last encodes to base64
 * without padding and the chunks' base64 texts concatenate into the whole's. Small on purpose:
 * every buffer and string a chunk costs on its way through the driver (its parameter, its base64
 * text) stays a small allocation that the young generation and the allocator reuse at once, so a
 * 50 MiB transfer does not leave tens of megabytes of large garbage waiting for a full collection.
 */
export const CHUNK_BYTES = 49_152;

/** The bytes of one Binary version: the blob holding them and their length. */
export interface BinaryContentRef {
  blobId: string;
  size: number;
}

/** One Binary version's link to its blob, written with the version. */
export interface BinaryContentLink extends BinaryContentRef {
  id: string;
  versionId: number;
}

/** 413: bytes beyond `MAX_BINARY`. */
export function binaryTooLarge(maxBytes: number): Error {
  return payloadTooLarge(`The Binary content is larger than this server accepts: ${maxBytes} bytes (MAX_BINARY)`);
}

async function insertChunk(tx: Queryable, blobId: string, chunkNo: number, data: Buffer): Promise<void> {
  await tx.query('INSERT INTO binary_chunk (blob_id, chunk_no, data) VALUES ($1, $2, $3)', [blobId, chunkNo, data]);
}

/**
 * Stores the bytes `source` yields as a new blob, a chunk at a time as they arrive (the source is
 * read no faster than the chunks are written); more than `maxBytes` throws 413, leaving the
 * caller's transaction to roll back what was written.
 */
export async function writeBlob(tx: Queryable, source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<BinaryContentRef> {
  const blobId = randomUUID();
  // One buffer for every chunk: each insert has sent it before the next piece is copied in.
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let filled = 0;
  let size = 0;
  let chunkNo = 0;
  for await (const piece of source) {
    size += piece.length;
    if (size > maxBytes) throw binaryTooLarge(maxBytes);
    let at = 0;
    while (at < piece.length) {
      const take = Math.min(CHUNK_BYTES - filled, piece.length - at);
      chunk.set(piece.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === CHUNK_BYTES) {
        await insertChunk(tx, blobId, chunkNo++, chunk);
        filled = 0;
      }
    }
  }
  if (filled > 0) await insertChunk(tx, blobId, chunkNo, chunk.subarray(0, filled));
  return { blobId, size };
}

/** Stores bytes already in memory (a FHIR JSON Binary's decoded `data`) as a new blob. */
export async function writeBlobBytes(tx: Queryable, bytes: Buffer, maxBytes: number): Promise<BinaryContentRef> {
  if (bytes.length > maxBytes) throw binaryTooLarge(maxBytes);
  async function* pieces() {
    for (let at = 0; at < bytes.length; at += CHUNK_BYTES) yield bytes.subarray(at, at + CHUNK_BYTES);
  }
  return writeBlob(tx, pieces(), maxBytes);
}

/** Links Binary versions to their blobs, one statement for all of them. */
export async function linkBinaryContents(tx: Queryable, links: BinaryContentLink[]): Promise<void> {
  if (links.length === 0) return;
  await tx.query(
    `INSERT INTO binary_content (id, version_id, blob_id, size)
     SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::bigint[])`,
    [links.map((l) => l.id), links.map((l) => l.versionId), links.map((l) => l.blobId), links.map((l) => l.size)],
  );
}

/** The bytes of one Binary version, or `undefined` when it has none. */
export async function readBinaryContent(q: Queryable, id: string, versionId: number): Promise<BinaryContentRef | undefined> {
  const rows = await q.query<{ blobId: string; size: string }>(
    'SELECT blob_id AS "blobId", size::text AS size FROM binary_content WHERE id = $1 AND version_id = $2',
    [id, versionId],
  );
  return rows[0] && { blobId: rows[0].blobId, size: Number(rows[0].size) };
}

/** Which of these Binary versions have bytes: the set of `id/versionId` keys that do. */
export async function findVersionsWithContent(q: Queryable, versions: { id: string; versionId: number }[]): Promise<Set<string>> {
  if (versions.length === 0) return new Set();
  const rows = await q.query<{ key: string }>(
    `SELECT id || '/' || version_id AS key FROM binary_content
      WHERE (id, version_id) IN (SELECT * FROM unnest($1::text[], $2::int[]))`,
    [versions.map((v) => v.id), versions.map((v) => v.versionId)],
  );
  return new Set(rows.map((r) => r.key));
}

/** Chunks read per statement: 16 (768 KiB), so a 50 MiB download costs about 70 statements, not 1,100. */
const CHUNKS_PER_READ = 16;

/**
 * The blob's content in order, {@link CHUNKS_PER_READ} chunks per statement, as its bytes or
 * (`base64`) as the bytes of its base64 text (whole chunks are multiples of 3 bytes, so the pieces
 * concatenate into the whole's base64). PostgreSQL encodes: base64 text is smaller to receive than
 * the hex text of a plain `bytea`, and each chunk's text is small enough for the young generation.
 * A reader holds one statement's chunks at a time and reads the next only when it asks for them.
 */
export async function* readBlobChunks(q: Queryable, ref: BinaryContentRef, as: 'bytes' | 'base64' = 'bytes'): AsyncGenerator<Buffer> {
  const chunks = Math.ceil(ref.size / CHUNK_BYTES);
  for (let first = 0; first < chunks; first += CHUNKS_PER_READ) {
    const last = Math.min(first + CHUNKS_PER_READ, chunks) - 1;
    const rows = await q.query<{ text: string }>(
      `SELECT translate(encode(data, 'base64'), E'\\n', '') AS text FROM binary_chunk
        WHERE blob_id = $1 AND chunk_no BETWEEN $2 AND $3 ORDER BY chunk_no`,
      [ref.blobId, first, last],
    );
    if (rows.length !== last - first + 1) throw new Error(`Invariant failed: chunks ${first}-${last} of a Binary blob are missing`);
    for (let i = 0; i < rows.length; i++) {
      const { text } = rows[i];
      rows[i] = undefined as never; // let each chunk's text go once it is passed on
      yield as === 'base64' ? Buffer.from(text, 'latin1') : Buffer.from(text, 'base64');
    }
  }
}

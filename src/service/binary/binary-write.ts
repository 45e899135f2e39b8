/**
 * The write side of `Binary` bytes in the one write path (write-ops.ts): a Binary version's
 * `data` never reaches its stored JSON. A FHIR JSON Binary (REST, a Bundle entry, GraphQL
 * `BinaryCreate`) has its base64 `data` decoded and stored as bytes; a raw upload arrives with its
 * bytes already stored (binary-upload.ts); a PATCH that leaves `data` alone keeps its version's
 * bytes (the new version names the same blob); a version without `data` has none.
 * https://hl7.org/fhir/R4/binary.html
 */
import type { Queryable } from '../../store/database.ts';
import { binaryTooLarge, linkBinaryContents, writeBlobBytes, type BinaryContentRef } from '../../store/binary-store.ts';
import type { FhirResource } from '../resource-content.ts';

/** Where a new Binary version's bytes come from: stored already (`ref`), or decoded from its JSON (`bytes`). */
export type PlannedBinary = { ref: BinaryContentRef } | { bytes: Buffer };

/**
 * Splits a Binary about to be stored into its JSON without `data` and its bytes: the `given` ones
 * of a raw upload, else its decoded `data` (validated base64), else `kept` (the bytes of the
 * version a PATCH started from). 413 when decoded `data` exceeds `maxBytes`.
 */
export function takeBinaryData(
  resource: FhirResource, maxBytes: number, given?: BinaryContentRef, kept?: BinaryContentRef,
): { resource: FhirResource; binary?: PlannedBinary } {
  const { data, ...rest } = resource;
  if (given) return { resource: rest as FhirResource, binary: given.size > 0 ? { ref: given } : undefined };
  if (typeof data === 'string') {
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length > maxBytes) throw binaryTooLarge(maxBytes);
    return { resource: rest as FhirResource, binary: bytes.length > 0 ? { bytes } : undefined };
  }
  return { resource: rest as FhirResource, binary: kept && { ref: kept } };
}

/** A new Binary version and where its bytes come from. */
export interface BinaryVersionWrite {
  id: string;
  versionId: number;
  binary: PlannedBinary;
}

/** Stores the decoded bytes of `writes` and links every version to its blob, in the caller's transaction. */
export async function saveBinaryContents(tx: Queryable, writes: BinaryVersionWrite[], maxBytes: number): Promise<void> {
  const links = [];
  for (const { id, versionId, binary } of writes) {
    const ref = 'ref' in binary ? binary.ref : await writeBlobBytes(tx, binary.bytes, maxBytes);
    links.push({ id, versionId, ...ref });
  }
  await linkBinaryContents(tx, links);
}

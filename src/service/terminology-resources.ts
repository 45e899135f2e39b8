/**
 * Reads the stored CodeSystems and ValueSets the terminology operations use, by id or by
 * canonical URL (and version), under the caller's scopes: each needs `read` on its type. A type
 * the caller may not read is not consulted (the caller learns so from {@link readableTerminology});
 * everything found is recorded in the request's audit.
 * https://hl7.org/fhir/R4/terminology-service.html
 */
import { gone, notFound } from '../fhir/outcomes.ts';
import type { Database } from '../store/database.ts';
import { findByCanonical } from '../store/canonical-repository.ts';
import { readCurrent } from '../store/resource-repository.ts';
import { isAllowed } from './authorize.ts';
import type { RequestContext } from './request-context.ts';

/** The terminology resource types. */
export type TerminologyType = 'CodeSystem' | 'ValueSet';

/** A stored terminology resource: its id and parsed content. */
export interface StoredTerminology {
  id: string;
  resource: Record<string, unknown>;
}

/** True when the caller may read stored resources of `type`. */
export function readableTerminology(ctx: RequestContext, type: TerminologyType): boolean {
  return isAllowed(ctx, type, 'r');
}

/**
 * The stored resource of `type` with canonical `url` (and `version`; without one, the most
 * recently updated), or undefined — also when the caller may not read `type`.
 */
export async function findStoredTerminology(db: Database, ctx: RequestContext, type: TerminologyType, url: string, version?: string): Promise<StoredTerminology | undefined> {
  if (!readableTerminology(ctx, type)) return undefined;
  const [row] = await findByCanonical(db, type, url, version, 1);
  if (!row) return undefined;
  ctx.audit.touch(`${type}/${row.id}`);
  return { id: row.id, resource: JSON.parse(row.content) as Record<string, unknown> };
}

/**
 * The stored resource `type/id` for an instance-level operation (the operation's permission on
 * the type was checked when it opened); 404 when unknown, 410 when deleted.
 */
export async function readStoredTerminology(db: Database, ctx: RequestContext, type: TerminologyType, id: string): Promise<StoredTerminology> {
  ctx.audit.touch(`${type}/${id}`);
  const version = await readCurrent(db, type, id);
  if (!version) throw notFound(`${type}/${id} is not known`);
  if (version.deleted || version.content === null) throw gone(`${type}/${id} has been deleted`);
  return { id, resource: JSON.parse(version.content) as Record<string, unknown> };
}

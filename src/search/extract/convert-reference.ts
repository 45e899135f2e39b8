/**
 * reference parameters. A Reference indexes its literal reference (local `Type/id`; an absolute
 * URL under `baseUrl` is local too; any other absolute URL or `urn:uuid:`/`urn:oid:` is kept in
 * `url`; a contained `#id` is not indexed) and its logical `identifier` (for `:identifier`).
 * canonical and uri values index as `url`. A whole resource (`Bundle.entry[0].resource` for
 * Bundle `composition`/`message`) indexes as its own `Type/id` when its type is a declared target.
 * https://hl7.org/fhir/R4/search.html#reference
 */
import type { IndexRow, ReferenceRow } from '../index-rows.ts';
import { textOf, type ConvertContext } from './convert-context.ts';
import { parseReference } from './parse-reference.ts';
import type { PathNode } from './path-node.ts';

const URL_TYPES: ReadonlySet<string> = new Set(['canonical', 'uri', 'url', 'oid', 'uuid']);

function pushReference(ctx: ConvertContext, ref: unknown, out: IndexRow[]): void {
  const reference = textOf(ref, 'reference');
  const declared = textOf(ref, 'type') ?? undefined;
  const identifier = (ref as { identifier?: unknown }).identifier;
  const identifierSystem = textOf(identifier, 'system');
  const identifierValue = textOf(identifier, 'value');
  const row: ReferenceRow = { kind: 'reference', param: ctx.param, targetType: null, targetId: null, url: null };
  if (reference !== null) {
    const parsed = parseReference(reference, declared, ctx.baseUrl);
    if (parsed.contained) return;
    row.targetType = parsed.targetType;
    row.targetId = parsed.targetId;
    row.url = parsed.url;
  } else if (identifierSystem === null && identifierValue === null) {
    return;
  } else {
    row.targetType = parseReference('', declared).targetType;
  }
  if (identifierSystem !== null || identifierValue !== null) {
    row.identifierSystem = identifierSystem;
    row.identifierValue = identifierValue;
  }
  out.push(row);
}

/** Appends the reference rows of one value. */
export function convertReference(node: PathNode, ctx: ConvertContext, out: IndexRow[]): void {
  const v = node.value;
  if (node.type === 'Reference') return pushReference(ctx, v, out);
  if (URL_TYPES.has(node.type) || typeof v === 'string') {
    if (typeof v === 'string' && v !== '') out.push({ kind: 'reference', param: ctx.param, targetType: null, targetId: null, url: v });
    return;
  }
  const resourceType = textOf(v, 'resourceType');
  if (resourceType && (!ctx.targets || ctx.targets.includes(resourceType))) {
    out.push({ kind: 'reference', param: ctx.param, targetType: resourceType, targetId: textOf(v, 'id'), url: null });
  }
}

/**
 * uri parameters: uri, url, canonical, oid and uuid values, as written (`:below`/`:above` work on
 * the text). https://hl7.org/fhir/R4/search.html#uri
 */
import type { IndexRow } from '../index-rows.ts';
import type { ConvertContext } from './convert-context.ts';
import type { PathNode } from './path-node.ts';

/** Appends the uri row of one value. */
export function convertUri(node: PathNode, ctx: ConvertContext, out: IndexRow[]): void {
  if (typeof node.value === 'string' && node.value !== '') out.push({ kind: 'uri', param: ctx.param, value: node.value });
}

/**
 * string parameters: a string-like primitive, or the parts of a HumanName or an Address, one row
 * per part, each with its normal form for the default (starts-with, case- and accent-insensitive)
 * match. https://hl7.org/fhir/R4/search.html#string
 */
import type { IndexRow } from '../index-rows.ts';
import { listOf, STRING_PRIMITIVES, type ConvertContext } from './convert-context.ts';
import { normalizeString } from './normalize-string.ts';
import type { PathNode } from './path-node.ts';

const HUMAN_NAME_PARTS = ['family', 'given', 'prefix', 'suffix', 'text'];
const ADDRESS_PARTS = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'];

function pushString(param: string, value: unknown, out: IndexRow[]): void {
  if (typeof value !== 'string' || value === '') return;
  out.push({ kind: 'string', param, value, norm: normalizeString(value) });
}

function pushParts(param: string, obj: unknown, parts: readonly string[], out: IndexRow[]): void {
  for (const part of parts) for (const v of listOf(obj, part)) pushString(param, v, out);
}

/** Appends the string rows of one value. */
export function convertString(node: PathNode, ctx: ConvertContext, out: IndexRow[]): void {
  if (node.type === 'HumanName') pushParts(ctx.param, node.value, HUMAN_NAME_PARTS, out);
  else if (node.type === 'Address') pushParts(ctx.param, node.value, ADDRESS_PARTS, out);
  else if (STRING_PRIMITIVES.has(node.type) || typeof node.value === 'string') pushString(ctx.param, node.value, out);
}

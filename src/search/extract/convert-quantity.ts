/**
 * number and quantity parameters, exact to the digit (decimals are strings, ranges computed in
 * decimal arithmetic). https://hl7.org/fhir/R4/search.html#number  https://hl7.org/fhir/R4/search.html#quantity
 * - number: integer/decimal values with the range their significant digits imply; a Range with
 *   both bounds gives [low, high] (value = low).
 * - quantity: Quantity and its profiles (Age, Duration, Distance, Count, SimpleQuantity); Money
 *   with its currency as `code` and system `urn:iso:std:iso:4217`; a Range gives one row flagged
 *   `range` (see {@link QuantityRow}). SampledData is not indexed (R4 defines no comparison for it).
 */
import { isLosslessNumber } from 'lossless-json';
import type { IndexRow, QuantityRow } from '../index-rows.ts';
import { textOf, type ConvertContext } from './convert-context.ts';
import { decimalRangeOf } from './decimal-range.ts';
import type { PathNode } from './path-node.ts';

const QUANTITY_TYPES: ReadonlySet<string> = new Set(['Quantity', 'Age', 'Duration', 'Distance', 'Count', 'SimpleQuantity', 'MoneyQuantity']);
const NUMBER_TYPES: ReadonlySet<string> = new Set(['integer', 'decimal', 'positiveInt', 'unsignedInt']);
const ISO_4217 = 'urn:iso:std:iso:4217';

function field(obj: unknown, key: string): unknown {
  return obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined;
}

function quantityRow(param: string, q: unknown): QuantityRow | null {
  const range = decimalRangeOf(field(q, 'value'));
  if (!range) return null;
  return { kind: 'quantity', param, ...range, system: textOf(q, 'system'), code: textOf(q, 'code'), unit: textOf(q, 'unit') };
}

function rangeRow(param: string, r: unknown): QuantityRow | null {
  const low = quantityRow(param, field(r, 'low'));
  const high = quantityRow(param, field(r, 'high'));
  if (low && high) return { ...low, low: low.value, high: high.value, range: 'closed' };
  if (low) return { ...low, low: low.value, high: low.value, range: 'at-least' };
  if (high) return { ...high, low: high.value, high: high.value, range: 'at-most' };
  return null;
}

/** Appends the quantity rows of one value. */
export function convertQuantity(node: PathNode, ctx: ConvertContext, out: IndexRow[]): void {
  let row: QuantityRow | null = null;
  if (QUANTITY_TYPES.has(node.type)) row = quantityRow(ctx.param, node.value);
  else if (node.type === 'Range') row = rangeRow(ctx.param, node.value);
  else if (node.type === 'Money') {
    const range = decimalRangeOf(field(node.value, 'value'));
    const currency = textOf(node.value, 'currency');
    if (range) row = { kind: 'quantity', param: ctx.param, ...range, system: currency ? ISO_4217 : null, code: currency, unit: null };
  }
  if (row) out.push(row);
}

/** Appends the number rows of one value. */
export function convertNumber(node: PathNode, ctx: ConvertContext, out: IndexRow[]): void {
  if (node.type === 'Range') {
    const low = decimalRangeOf(field(field(node.value, 'low'), 'value'));
    const high = decimalRangeOf(field(field(node.value, 'high'), 'value'));
    if (low && high) out.push({ kind: 'number', param: ctx.param, value: low.value, low: low.value, high: high.value });
    return;
  }
  const v = node.value;
  const number = QUANTITY_TYPES.has(node.type) ? field(v, 'value') : NUMBER_TYPES.has(node.type) || typeof v === 'number' || isLosslessNumber(v) ? v : undefined;
  const range = decimalRangeOf(number);
  if (range) out.push({ kind: 'number', param: ctx.param, ...range });
}

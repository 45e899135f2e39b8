/**
 * date parameters: date, dateTime and instant cover the range their precision implies; a Period
 * runs from its start's low to its end's high (an absent end is open); a Timing gives one row per
 * `event` and one for `repeat.boundsPeriod`. https://hl7.org/fhir/R4/search.html#date
 */
import type { IndexRow } from '../index-rows.ts';
import { listOf, textOf, type ConvertContext } from './convert-context.ts';
import { dateRange } from './date-range.ts';
import type { PathNode } from './path-node.ts';

function pushInstant(param: string, text: unknown, out: IndexRow[]): void {
  const range = typeof text === 'string' ? dateRange(text) : null;
  if (range) out.push({ kind: 'date', param, low: range.low, high: range.high });
}

function pushPeriod(param: string, period: unknown, out: IndexRow[]): void {
  const start = textOf(period, 'start');
  const end = textOf(period, 'end');
  const low = start === null ? null : dateRange(start)?.low ?? null;
  const high = end === null ? null : dateRange(end)?.high ?? null;
  if (low !== null || high !== null) out.push({ kind: 'date', param, low, high });
}

/** Appends the date rows of one value. */
export function convertDate(node: PathNode, ctx: ConvertContext, out: IndexRow[]): void {
  switch (node.type) {
    case 'Period':
      return pushPeriod(ctx.param, node.value, out);
    case 'Timing': {
      for (const event of listOf(node.value, 'event')) pushInstant(ctx.param, event, out);
      const repeat = (node.value as { repeat?: { boundsPeriod?: unknown } }).repeat;
      if (repeat?.boundsPeriod) pushPeriod(ctx.param, repeat.boundsPeriod, out);
      return;
    }
    default:
      if (typeof node.value === 'string') pushInstant(ctx.param, node.value, out);
  }
}

/**
 * Turns a search index row (`src/search/index-rows.ts`) back into the REST search query that
 * should find the resource it came from (https://hl7.org/fhir/R4/search.html#ptypes): string →
 * the value; token → `system|code`, `|code`, `system|` or `:text`; date → an `eq` value whose
 * precision covers the row's range, else a pair of prefixed values pinning its ends; number →
 * the exact value; quantity → `value|system|code`; reference → `Type/id`, the URL, or
 * `:identifier`; uri → the value; composite → the components' values joined by `$`.
 * Used by the search coverage test (DECISIONS §5) to query every (type, parameter) pair.
 */
import type { SearchParamDef } from '../../src/fhir/model-types.ts';
import type { DateRow, IndexRow } from '../../src/search/index-rows.ts';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';
import { dateRange } from '../../src/search/search-values.ts';

/** Query parameters (name, value), AND-ed; or why the row cannot be expressed as a query. */
export type RowQuery = { params: [string, string][] } | { unsupported: string };

/** Escapes the characters that the search syntax reserves in values (`\`, `,`, `$`, `|`). */
export function escapeSearchValue(value: string): string {
  return value.replace(/[\\,$|]/g, (c) => `\\${c}`);
}

type SimpleRow = Exclude<IndexRow, { kind: 'composite' }>;

/** `date` shifted by `ms` milliseconds, as an instant with milliseconds. */
function shift(instant: string, ms: number): string {
  return new Date(Date.parse(instant) + ms).toISOString();
}

/** The finest single `eq` value (instant … year) whose range contains [low, high], if any. */
function coveringDate(low: string, high: string): string | undefined {
  const lo = Date.parse(low);
  const hi = Date.parse(high);
  const iso = new Date(lo).toISOString();
  const candidates = [iso, `${iso.slice(0, 19)}Z`, `${iso.slice(0, 16)}Z`, iso.slice(0, 10), iso.slice(0, 7), iso.slice(0, 4)];
  return candidates.find((c) => {
    const range = dateRange(c);
    return range !== undefined && range[0] <= lo && hi <= range[1];
  });
}

/**
 * Values for a date row, AND-ed: `eq` at the covering precision when the row lies within one
 * year, else `ge<low>`/`le<high>`; an open end pins the other end from both sides
 * (`sa`/`le` around the low of an open-ended period, `ge`/`eb` around the high of one without start).
 */
export function dateValues(row: Pick<DateRow, 'low' | 'high'>): string[] {
  const { low, high } = row;
  if (low !== null && high !== null) {
    const eq = coveringDate(low, high);
    return eq ? [eq] : [`ge${low}`, `le${high}`];
  }
  if (low !== null) return [`sa${shift(low, -1)}`, `le${shift(low, 1)}`];
  if (high !== null) return [`ge${shift(high, -1)}`, `eb${shift(high, 1)}`];
  return [];
}

/** The single value (and modifier, if any) of a non-composite row; string[] for dates. */
function simpleValue(row: SimpleRow): { modifier?: string; values: string[] } | { unsupported: string } {
  const e = escapeSearchValue;
  switch (row.kind) {
    case 'string':
      return { values: [e(row.value)] };
    case 'token':
      if (row.code !== null) return { values: [row.system !== null ? `${e(row.system)}|${e(row.code)}` : `|${e(row.code)}`] };
      if (row.system !== null) return { values: [`${e(row.system)}|`] };
      if (row.text) return { modifier: 'text', values: [e(row.text)] };
      return { unsupported: 'a token row with neither system, code nor text' };
    case 'date': {
      const values = dateValues(row);
      return values.length > 0 ? { values } : { unsupported: 'a date row open at both ends' };
    }
    case 'number':
      return { values: [row.value] };
    case 'quantity': {
      const code = row.code ?? row.unit;
      // A Range matches on its bounds: ask for values reaching its low bound (or, at-most, its high one).
      const value = row.range === 'at-most' ? `le${row.high}` : row.range ? `ge${row.low}` : row.value;
      if (row.system === null && code === null) return { values: [value] };
      return { values: [`${value}|${e(row.system ?? '')}|${e(code ?? '')}`] };
    }
    case 'reference':
      if (row.url !== null) return { values: [e(row.url)] };
      if (row.targetId !== null) return { values: [row.targetType ? `${row.targetType}/${row.targetId}` : row.targetId] };
      if (row.identifierValue) {
        return { modifier: 'identifier', values: [`${e(row.identifierSystem ?? '')}|${e(row.identifierValue)}`] };
      }
      return { unsupported: 'a reference row with neither target, URL nor identifier' };
    case 'uri':
      return { values: [e(row.value)] };
  }
}

/** The component parameters of a composite, in the order the search value lists them. */
function componentCodes(def: SearchParamDef): string[] {
  const model = loadFhirModel();
  if (def.type === 'special') return ['latitude', 'longitude'];
  return (def.component ?? []).map((c) => model.getSearchParamByUrl(c.definition)?.code ?? c.definition);
}

/** The query that should find the resource `row` was extracted from, by the parameter `def`. */
export function searchQueryForRow(row: IndexRow, def: SearchParamDef): RowQuery {
  if (row.kind !== 'composite') {
    const value = simpleValue(row);
    if ('unsupported' in value) return value;
    const name = value.modifier ? `${def.code}:${value.modifier}` : def.code;
    return { params: value.values.map((v): [string, string] => [name, v]) };
  }
  const parts: string[] = [];
  for (const code of componentCodes(def)) {
    const component = row.components[code];
    if (!component) return { unsupported: `composite row without its component ${code}` };
    const value = simpleValue(component);
    if ('unsupported' in value) return value;
    if (value.modifier) return { unsupported: `component ${code} needs :${value.modifier}, which a composite value cannot carry` };
    if (value.values.length !== 1) return { unsupported: `component ${code} (date) needs ${value.values.length} prefixed values to pin its range; a composite takes one` };
    parts.push(value.values[0]);
  }
  return { params: [[def.code, parts.join('$')]] };
}

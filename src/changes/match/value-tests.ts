/**
 * One search value as a test on one index row, per parameter type: the in-memory twin of
 * `src/search/sql/value-conditions.ts` and the value half of `criterion-sql.ts`, written to mean
 * exactly what those SQL conditions mean (SQL's NULL never matches, so a missing field never
 * does either). A value is parsed, and refused with the same 400 as the REST search, when the
 * test is built, never when it runs. https://hl7.org/fhir/R4/search.html#ptypes
 */
import { DECIMAL_BOUNDS, isBoundedDecimal } from '../../fhir/bounded-decimal.ts';
import type { FhirModel } from '../../fhir/fhir-model.ts';
import type { SearchParamDef } from '../../fhir/model-types.ts';
import { badRequest } from '../../fhir/outcomes.ts';
import { normalizeString } from '../../search/extract/normalize-string.ts';
import type { CompositeRow } from '../../search/index-rows.ts';
import { dateRange, numberPrecision, splitEscaped, splitPrefix, unescapeValue, type Prefix } from '../../search/search-values.ts';
import {
  addDecimals, compareBounds, parseDecimal, scaleByTenths, subtractDecimals, type Bound, type Decimal,
} from './exact-decimal.ts';

/** An index row (or a composite's component) of any type, its fields read loosely. */
export type Row = Partial<Record<string, unknown>>;

/** A test on one index row (or one component of a composite row). */
export type RowTest = (row: Row) => boolean;

/** What building a test needs: the model (reference types, composite components) and the base URL of local references. */
export interface ValueTestContext {
  model: FhirModel;
  fhirBaseUrl: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** `[lo, hi]` against a search range, with the comparison a prefix names (as `rangeComparison` in SQL). */
function compareRange<T>(
  prefix: Prefix, cmp: (a: T, b: T) => number, lo: T, hi: T, vLow: T, vHigh: T, within: () => boolean, approx: () => [T, T],
): boolean {
  switch (prefix) {
    case 'eq': return within();
    case 'ne': return !within();
    case 'gt': return cmp(hi, vHigh) > 0;
    case 'lt': return cmp(lo, vLow) < 0;
    case 'ge': return cmp(hi, vHigh) > 0 || within();
    case 'le': return cmp(lo, vLow) < 0 || within();
    case 'sa': return cmp(lo, vHigh) > 0;
    case 'eb': return cmp(hi, vLow) < 0;
    case 'ap': {
      const [aLow, aHigh] = approx();
      return cmp(lo, aHigh) <= 0 && cmp(hi, aLow) >= 0;
    }
  }
}

/** string: starts with (normalised), `:exact`, `:contains`. */
export function stringTest(raw: string, modifier: string | undefined): RowTest {
  const value = unescapeValue(raw);
  if (modifier === 'exact') return (row) => row.value === value;
  if (modifier === 'contains') {
    const part = normalizeString(value);
    return (row) => text(row.norm)?.includes(part) === true;
  }
  if (modifier) throw badRequest(`Modifier :${modifier} is not supported on string parameters`);
  const prefix = normalizeString(value);
  return (row) => text(row.norm)?.startsWith(prefix) === true;
}

/** token: `code`, `system|code`, `|code`, `system|`, `:text`, `:of-type` (`:not` is the criterion's). */
export function tokenTest(raw: string, modifier: string | undefined, ofTypeAllowed = true): RowTest {
  if (modifier === 'text') {
    const prefix = normalizeString(unescapeValue(raw));
    return (row) => text(row.text)?.startsWith(prefix) === true;
  }
  if (modifier === 'of-type') {
    const [system, code, value] = splitEscaped(raw, '|').map(unescapeValue);
    if (value === undefined || !code) throw badRequest(':of-type takes system|code|value');
    if (!ofTypeAllowed) throw badRequest(':of-type is not supported here');
    const wantedSystem = system || null;
    return (row) => row.code === value && Array.isArray(row.ofType)
      && row.ofType.some((t: { system?: unknown; code?: unknown }) => (t.system ?? null) === wantedSystem && t.code === code);
  }
  if (modifier && modifier !== 'not') throw badRequest(`Modifier :${modifier} is not supported on token parameters`);
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length === 1) return (row) => row.code === parts[0];
  if (parts.length !== 2) throw badRequest(`Token "${raw.slice(0, 80)}" must be code, system|code, |code or system|`);
  const [system, code] = parts;
  if (system === '') return (row) => row.code === code && row.system == null;
  if (code === '') return (row) => row.system === system;
  return (row) => row.code === code && row.system === system;
}

/** date: the row's range [low, high] (open ends unbounded) against the value's, per prefix. */
export function dateTest(raw: string): RowTest {
  const [prefix, value] = splitPrefix(raw);
  const range = dateRange(value);
  if (!range) throw badRequest(`"${raw.slice(0, 60)}" is not a FHIR date, dateTime or instant`);
  const [vLow, vHigh] = range;
  const cmp = (a: number, b: number) => a - b;
  return (row) => {
    const lo = typeof row.low === 'string' ? Date.parse(row.low) : -Infinity;
    const hi = typeof row.high === 'string' ? Date.parse(row.high) : Infinity;
    if (Number.isNaN(lo) || Number.isNaN(hi)) return false;
    return compareRange(prefix, cmp, lo, hi, vLow, vHigh, () => lo >= vLow && hi <= vHigh, () => {
      const gapMs = Math.max(Math.abs(Date.now() - vLow) * 0.1, 86_400_000);
      return [vLow - gapMs, vHigh + gapMs];
    });
  };
}

/** A search number's value and implicit precision, refused (400) like the SQL path refuses it. */
function searchNumber(raw: string): { prefix: Prefix; v: Decimal; half: Decimal } {
  const [prefix, value] = splitPrefix(raw);
  if (!isBoundedDecimal(value)) throw badRequest(`The number "${value.slice(0, 40)}${value.length > 40 ? '…' : ''}" is out of bounds: search numbers have ${DECIMAL_BOUNDS}`);
  const number = numberPrecision(value);
  const v = number && parseDecimal(number.value);
  const half = number && parseDecimal(number.half);
  if (!v || !half) throw badRequest(`"${raw.slice(0, 60)}" is not a number`);
  return { prefix, v, half };
}

/** number: the row's exact `value` against the search value and its precision. */
export function numberTest(raw: string): RowTest {
  const { prefix, v, half } = searchNumber(raw);
  const low = subtractDecimals(v, half);
  const high = addDecimals(v, half);
  return (row) => {
    const value = parseDecimal(row.value);
    if (!value) return false;
    const within = () => compareBounds(value, low) >= 0 && compareBounds(value, high) < 0;
    switch (prefix) {
      case 'eq': return within();
      case 'ne': return !within();
      case 'gt': case 'sa': return compareBounds(value, v) > 0;
      case 'lt': case 'eb': return compareBounds(value, v) < 0;
      case 'ge': return compareBounds(value, v) >= 0;
      case 'le': return compareBounds(value, v) <= 0;
      case 'ap': return compareBounds(value, scaleByTenths(v, 9)) >= 0 && compareBounds(value, scaleByTenths(v, 11)) <= 0;
    }
  };
}

/** A Range's bounds (`range` says which it has) against a search number, like a date range. */
function rangeTest(raw: string): RowTest {
  const { prefix, v, half } = searchNumber(raw);
  const vLow = subtractDecimals(v, half);
  const vHigh = addDecimals(v, half);
  return (row) => {
    const lo: Bound | undefined = row.range === 'at-most' ? -Infinity : parseDecimal(row.low);
    const hi: Bound | undefined = row.range === 'at-least' ? Infinity : parseDecimal(row.high);
    if (lo === undefined || hi === undefined) return false;
    const within = () => compareBounds(lo, vLow) >= 0 && compareBounds(hi, vHigh) <= 0;
    return compareRange<Bound>(prefix, compareBounds, lo, hi, v, v, within, () => [scaleByTenths(v, 9), scaleByTenths(v, 11)]);
  };
}

/** quantity: `[prefix]number|system|code` (a code also matches the unit when no system is given). */
export function quantityTest(raw: string): RowTest {
  const [number, system, code] = splitEscaped(raw, '|').map(unescapeValue);
  const point = numberTest(number);
  const range = rangeTest(number);
  return (row) => {
    if (!(row.range == null ? point(row) : range(row))) return false;
    if (system && row.system !== system) return false;
    if (code && !(system ? row.code === code : row.code === code || row.unit === code)) return false;
    return true;
  };
}

/** uri: equal, `:below` (starts with the value), `:above` (the value starts with it). */
export function uriTest(raw: string, modifier: string | undefined): RowTest {
  const value = unescapeValue(raw);
  if (modifier === 'below') return (row) => text(row.value)?.startsWith(value) === true;
  if (modifier === 'above') return (row) => typeof row.value === 'string' && value.startsWith(row.value);
  if (modifier) throw badRequest(`Modifier :${modifier} is not supported on uri parameters`);
  return (row) => row.value === value;
}

const LOCAL = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const PLAIN_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** reference: `Type/id`, a plain id (any target type the parameter allows), a URL, `:Type`, `:identifier`. */
export function referenceTest(param: SearchParamDef, raw: string, modifier: string | undefined, ctx: ValueTestContext): RowTest {
  if (modifier === 'identifier') {
    const [system, code] = splitEscaped(raw, '|').map(unescapeValue);
    if (code === undefined) return (row) => row.identifierValue === system;
    return (row) => row.identifierValue === code && (system ? row.identifierSystem === system : row.identifierSystem == null);
  }
  if (modifier && !ctx.model.isResourceType(modifier)) throw badRequest(`Modifier :${modifier} is not supported on reference parameters`);
  let value = unescapeValue(raw);
  if (value.startsWith(`${ctx.fhirBaseUrl}/`)) value = value.slice(ctx.fhirBaseUrl.length + 1);
  // A relative canonical (`Questionnaire/gcs`, `library-x`) is stored as written in `url`.
  const asWritten = (row: Row) => row.url === value;
  const local = LOCAL.exec(value);
  if (local) {
    if (modifier && modifier !== local[1]) return () => false;
    const [, type, id] = local;
    return (row) => (row.targetId === id && row.targetType === type) || asWritten(row);
  }
  if (PLAIN_ID.test(value)) {
    const types = modifier ? [modifier] : param.target;
    return (row) => (row.targetId === value && (!types?.length || types.includes(row.targetType as string))) || asWritten(row);
  }
  return asWritten;
}

/** composite: `a$b`, each part tested on its component (taken from the same element). */
export function compositeTest(param: SearchParamDef, raw: string, ctx: ValueTestContext): RowTest {
  const components = param.component ?? [];
  const parts = splitEscaped(raw, '$');
  if (parts.length !== components.length) throw badRequest(`${param.code} takes ${components.length} values separated by $`);
  const tests = components.map((component, i): [string, RowTest] => {
    const def = ctx.model.getSearchParamByUrl(component.definition);
    if (!def) throw badRequest(`${param.code}: unknown component ${component.definition}`);
    switch (def.type) {
      case 'token': return [def.code, tokenTest(parts[i], undefined, false)];
      case 'quantity': return [def.code, quantityTest(parts[i])];
      case 'number': return [def.code, numberTest(parts[i])];
      case 'date': return [def.code, dateTest(parts[i])];
      case 'string': return [def.code, stringTest(parts[i], undefined)];
      case 'uri': return [def.code, uriTest(parts[i], undefined)];
      case 'reference': return [def.code, referenceTest(def, parts[i], undefined, ctx)];
      default: throw badRequest(`${param.code}: components of type ${def.type} are not supported`);
    }
  });
  return (row) => {
    const found = (row as Partial<CompositeRow>).components;
    return found !== undefined && tests.every(([code, test]) => {
      const component = found[code] as unknown as Row | undefined;
      return component !== undefined && component !== null && test(component);
    });
  };
}

/** The test of one value of a parameter (`modifier` already stripped of `:not` and `:missing`). */
export function valueTest(param: SearchParamDef, raw: string, modifier: string | undefined, ctx: ValueTestContext): RowTest {
  switch (param.type) {
    case 'string': return stringTest(raw, modifier);
    case 'token': return tokenTest(raw, modifier);
    case 'date':
      if (modifier) throw badRequest(`Modifier :${modifier} is not supported on date parameters`);
      return dateTest(raw);
    case 'number':
      if (modifier) throw badRequest(`Modifier :${modifier} is not supported on number parameters`);
      return numberTest(raw);
    case 'quantity':
      if (modifier) throw badRequest(`Modifier :${modifier} is not supported on quantity parameters`);
      return quantityTest(raw);
    case 'uri': return uriTest(raw, modifier);
    case 'reference': return referenceTest(param, raw, modifier, ctx);
    case 'composite': return compositeTest(param, raw, ctx);
    default: throw badRequest(`Search parameters of type ${param.type} are not supported`);
  }
}

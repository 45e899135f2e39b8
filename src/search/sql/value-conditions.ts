/**
 * SQL conditions on one indexed value, per parameter type, written against column expressions
 * so they serve both the plain index tables (`s.code`) and the components of a composite
 * (`(s.components->'code'->>'code')`). https://hl7.org/fhir/R4/search.html#ptypes
 */
import { DECIMAL_BOUNDS, isBoundedDecimal } from '../../fhir/bounded-decimal.ts';
import { badRequest } from '../../fhir/outcomes.ts';
import { dateRange, numberPrecision, splitEscaped, splitPrefix, unescapeValue, type Prefix } from '../search-values.ts';
import { normalizeString } from '../extract/normalize-string.ts';
import type { SqlParams } from './sql-params.ts';

/** Lower-cases and strips accents exactly like the string index's `norm` column. */
const normalise = normalizeString;

/** `column` starts with `prefix` (a range, so a btree index on a "C"-collated column serves it). */
export function startsWith(column: string, prefix: string, p: SqlParams): string {
  return `(${column} >= ${p.add(prefix)} AND ${column} < ${p.add(prefix + '\u{10FFFF}')})`;
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface StringColumns { value: string; norm: string }

export function stringCondition(cols: StringColumns, raw: string, modifier: string | undefined, p: SqlParams): string {
  const value = unescapeValue(raw);
  if (modifier === 'exact') return `${cols.value} = ${p.add(value)}`;
  if (modifier === 'contains') return `${cols.norm} LIKE ${p.add(`%${escapeLike(normalise(value))}%`)}`;
  if (modifier) throw badRequest(`Modifier :${modifier} is not supported on string parameters`);
  return startsWith(cols.norm, normalise(value), p);
}

export interface TokenColumns { system: string; code: string; text: string; ofType?: string }

export function tokenCondition(cols: TokenColumns, raw: string, modifier: string | undefined, p: SqlParams): string {
  if (modifier === 'text') return startsWith(cols.text, normalise(unescapeValue(raw)), p);
  if (modifier === 'of-type') {
    const [system, code, value] = splitEscaped(raw, '|').map(unescapeValue);
    if (value === undefined || !code) throw badRequest(':of-type takes system|code|value');
    if (!cols.ofType) throw badRequest(':of-type is not supported here');
    const type = JSON.stringify([{ system: system || null, code }]);
    return `(${cols.code} = ${p.add(value)} AND ${cols.ofType} @> ${p.add(type, 'jsonb')})`;
  }
  if (modifier && modifier !== 'not') throw badRequest(`Modifier :${modifier} is not supported on token parameters`);
  const parts = splitEscaped(raw, '|').map(unescapeValue);
  if (parts.length === 1) return `${cols.code} = ${p.add(parts[0])}`;
  if (parts.length !== 2) throw badRequest(`Token "${raw.slice(0, 80)}" must be code, system|code, |code or system|`);
  const [system, code] = parts;
  if (system === '') return `(${cols.code} = ${p.add(code)} AND ${cols.system} IS NULL)`;
  if (code === '') return `${cols.system} = ${p.add(system)}`;
  return `(${cols.code} = ${p.add(code)} AND ${cols.system} = ${p.add(system)})`;
}

export interface RangeColumns {
  low: string;
  high: string;
  /** False when neither bound can be NULL (a column such as `last_updated`); else a NULL bound is an open end. */
  nullable?: boolean;
}

/**
 * Date comparison of an indexed range [low, high] (a NULL bound is open: -infinity, infinity)
 * with a search value's range. The tests are written on the bare columns, with the open ends as
 * `IS NULL`, so the (type, param, low|high) indexes and their statistics serve them; a test
 * wrapped in `coalesce()` is opaque to both, and PostgreSQL then walked every date row of a type.
 */
export function dateCondition(cols: RangeColumns, raw: string, p: SqlParams): string {
  const [prefix, value] = splitPrefix(raw);
  const range = dateRange(value);
  if (!range) throw badRequest(`"${raw.slice(0, 60)}" is not a FHIR date, dateTime or instant`);
  const { low, high } = cols;
  const open = (test: string, column: string) => (cols.nullable === false ? test : `(${test} OR ${column} IS NULL)`);
  // Placeholders are added only when used: PostgreSQL cannot type a parameter no clause mentions.
  const vLow = lazy(() => p.add(new Date(range[0]).toISOString(), 'timestamptz'));
  const vHigh = lazy(() => p.add(new Date(range[1]).toISOString(), 'timestamptz'));
  // NULL (an open end) when a bound is NULL: never true, so it reads as false except under NOT.
  const within = () => `(${low} >= ${vLow()} AND ${high} <= ${vHigh()})`;
  switch (prefix) {
    case 'eq': return within();
    case 'ne': return `NOT coalesce(${within()}, false)`;
    case 'gt': return open(`${high} > ${vHigh()}`, high);
    case 'lt': return open(`${low} < ${vLow()}`, low);
    case 'ge': return `(${open(`${high} > ${vHigh()}`, high)} OR ${within()})`;
    case 'le': return `(${open(`${low} < ${vLow()}`, low)} OR ${within()})`;
    case 'sa': return `${low} > ${vHigh()}`;
    case 'eb': return `${high} < ${vLow()}`;
    case 'ap': {
      const gapMs = Math.max(Math.abs(Date.now() - range[0]) * 0.1, 86_400_000);
      const aLow = p.add(new Date(range[0] - gapMs).toISOString(), 'timestamptz');
      const aHigh = p.add(new Date(range[1] + gapMs).toISOString(), 'timestamptz');
      return `(${open(`${low} <= ${aHigh}`, low)} AND ${open(`${high} >= ${aLow}`, high)})`;
    }
  }
}

function lazy(make: () => string): () => string {
  let value: string | undefined;
  return () => (value ??= make());
}

type Lazy = () => string;

function rangeComparison(prefix: Prefix, lo: string, hi: string, vLow: Lazy, vHigh: Lazy, within: Lazy, approx: () => [string, string]): string {
  switch (prefix) {
    case 'eq': return within();
    case 'ne': return `NOT ${within()}`;
    case 'gt': return `${hi} > ${vHigh()}`;
    case 'lt': return `${lo} < ${vLow()}`;
    case 'ge': return `(${hi} > ${vHigh()} OR ${within()})`;
    case 'le': return `(${lo} < ${vLow()} OR ${within()})`;
    case 'sa': return `${lo} > ${vHigh()}`;
    case 'eb': return `${hi} < ${vLow()}`;
    case 'ap': {
      const [aLow, aHigh] = approx();
      return `(${lo} <= ${aHigh} AND ${hi} >= ${aLow})`;
    }
  }
}

/**
 * Number comparison of an indexed exact value with a search value and its implicit precision.
 * Values beyond the bounds of a stored decimal answer 400 (they would overflow `numeric`).
 */
export function numberCondition(valueColumn: string, raw: string, p: SqlParams): string {
  const [prefix, value] = splitPrefix(raw);
  if (!isBoundedDecimal(value)) throw badRequest(`The number "${value.slice(0, 40)}${value.length > 40 ? '…' : ''}" is out of bounds: search numbers have ${DECIMAL_BOUNDS}`);
  const number = numberPrecision(value);
  if (!number) throw badRequest(`"${raw.slice(0, 60)}" is not a number`);
  const v = p.add(number.value, 'numeric');
  const within = () => {
    const half = p.add(number.half, 'numeric');
    return `(${valueColumn} >= ${v} - ${half} AND ${valueColumn} < ${v} + ${half})`;
  };
  switch (prefix) {
    case 'eq': return within();
    case 'ne': return `NOT ${within()}`;
    case 'gt': case 'sa': return `${valueColumn} > ${v}`;
    case 'lt': case 'eb': return `${valueColumn} < ${v}`;
    case 'ge': return `${valueColumn} >= ${v}`;
    case 'le': return `${valueColumn} <= ${v}`;
    case 'ap': return `(${valueColumn} >= ${v} * 0.9 AND ${valueColumn} <= ${v} * 1.1)`;
  }
}

export interface QuantityColumns { value: string; system: string; code: string; unit: string; low?: string; high?: string; range?: string }

/**
 * A Range's bounds (`range` says which it has) compared like a date range: `gt15` matches a
 * range reaching above 15, `eq15` only a range inside 15's precision.
 */
function rangeCondition(cols: Required<Pick<QuantityColumns, 'low' | 'high' | 'range'>>, raw: string, p: SqlParams): string {
  const [prefix, value] = splitPrefix(raw);
  const number = numberPrecision(value)!;
  const lo = `(CASE WHEN ${cols.range} = 'at-most' THEN '-Infinity'::numeric ELSE ${cols.low} END)`;
  const hi = `(CASE WHEN ${cols.range} = 'at-least' THEN 'Infinity'::numeric ELSE ${cols.high} END)`;
  const v = lazy(() => p.add(number.value, 'numeric'));
  const half = lazy(() => p.add(number.half, 'numeric'));
  const vLow = () => `(${v()} - ${half()})`;
  const vHigh = () => `(${v()} + ${half()})`;
  const within = () => `(${lo} >= ${vLow()} AND ${hi} <= ${vHigh()})`;
  return rangeComparison(prefix, lo, hi, v, v, within, () => [`(${v()} * 0.9)`, `(${v()} * 1.1)`]);
}

/** `[prefix]number|system|code` (system and code optional; a code also matches the unit). */
export function quantityCondition(cols: QuantityColumns, raw: string, p: SqlParams): string {
  const [number, system, code] = splitEscaped(raw, '|').map(unescapeValue);
  const point = numberCondition(cols.value, number, p);
  const conditions = [cols.range && cols.low && cols.high
    ? `(CASE WHEN ${cols.range} IS NULL THEN ${point} ELSE ${rangeCondition({ low: cols.low, high: cols.high, range: cols.range }, number, p)} END)`
    : point];
  if (system) conditions.push(`${cols.system} = ${p.add(system)}`);
  if (code) conditions.push(system ? `${cols.code} = ${p.add(code)}` : `(${cols.code} = ${p.add(code)} OR ${cols.unit} = ${p.add(code)})`);
  return `(${conditions.join(' AND ')})`;
}

export function uriCondition(column: string, raw: string, modifier: string | undefined, p: SqlParams): string {
  const value = unescapeValue(raw);
  if (modifier === 'below') return startsWith(column, value, p);
  if (modifier === 'above') return `starts_with(${p.add(value)}, ${column})`;
  if (modifier) throw badRequest(`Modifier :${modifier} is not supported on uri parameters`);
  return `${column} = ${p.add(value)}`;
}

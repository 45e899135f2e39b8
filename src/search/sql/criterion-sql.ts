/**
 * Turns one search criterion into a SQL condition on a resource row alias: an `EXISTS` over the
 * parameter's index table with the OR of its values, `NOT EXISTS` for `:missing=true` and
 * `:not`, a nested query for chains and `_has`, and direct column tests for `_id` and
 * `_lastUpdated`. https://hl7.org/fhir/R4/search.html
 */
import type { FhirModel } from '../../fhir/fhir-model.ts';
import type { SearchParamDef } from '../../fhir/model-types.ts';
import { badRequest } from '../../fhir/outcomes.ts';
import type { SearchCriterion } from '../search-request.ts';
import { splitEscaped, unescapeValue } from '../search-values.ts';
import type { SqlParams } from './sql-params.ts';
import {
  dateCondition, numberCondition, quantityCondition, stringCondition, tokenCondition, uriCondition,
} from './value-conditions.ts';

const TABLES: Record<string, string> = {
  string: 'search_string', token: 'search_token', date: 'search_date', number: 'search_number',
  quantity: 'search_quantity', reference: 'search_reference', uri: 'search_uri', composite: 'search_composite',
};

export interface CriterionContext {
  model: FhirModel;
  params: SqlParams;
  /** `PUBLIC_URL/fhir`: absolute references under it are local. */
  fhirBaseUrl: string;
  /** A fresh alias for nested queries. */
  nextAlias(): string;
}

/** The SQL condition for `criterion` on the resource row `alias`. */
export function criterionSql(criterion: SearchCriterion, alias: string, ctx: CriterionContext): string {
  const { param, modifier } = criterion;
  if (criterion.has) return hasSql(criterion, alias, ctx);
  if (criterion.chain) return chainSql(criterion, alias, ctx);
  if (param.code === '_id') return idSql(criterion, alias, ctx);
  if (param.code === '_lastUpdated' && modifier !== 'missing') {
    return or(criterion.values.map((v) => dateCondition({ low: `${alias}.last_updated`, high: `${alias}.last_updated`, nullable: false }, v, ctx.params)));
  }
  const table = TABLES[param.type];
  if (!table) throw badRequest(`Search parameters of type ${param.type} are not supported`);
  const s = ctx.nextAlias();
  const anchor = `${s}.resource_type = ${ctx.params.add(criterion.resourceType)} AND ${s}.resource_id = ${alias}.id AND ${s}.param = ${ctx.params.add(param.code)}`;
  if (modifier === 'missing') {
    const value = criterion.values[0];
    if (value !== 'true' && value !== 'false') throw badRequest(':missing takes true or false');
    return `${value === 'true' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${table} ${s} WHERE ${anchor})`;
  }
  const conditions = criterion.values.map((value) => valueSql(param, s, value, modifier === 'not' ? undefined : modifier, ctx));
  const exists = `EXISTS (SELECT 1 FROM ${table} ${s} WHERE ${anchor} AND ${or(conditions)})`;
  if (modifier === 'not') {
    if (param.type !== 'token') throw badRequest(':not is supported on token parameters');
    return `NOT ${exists}`;
  }
  return exists;
}

/**
 * The index table and the row condition of a criterion on a plain index-table parameter (no
 * chain, `_has`, `_id`, `_lastUpdated`, `:missing` or `:not`), on the index row alias `s` and not
 * tied to a resource row: the matching rows' `resource_id`s are the matches.
 */
export function indexMatchSql(criterion: SearchCriterion, s: string, ctx: CriterionContext): { table: string; condition: string } {
  const { param, modifier } = criterion;
  const table = TABLES[param.type];
  if (!table) throw badRequest(`Search parameters of type ${param.type} are not supported`);
  const anchor = `${s}.resource_type = ${ctx.params.add(criterion.resourceType)} AND ${s}.param = ${ctx.params.add(param.code)}`;
  const conditions = criterion.values.map((value) => valueSql(param, s, value, modifier, ctx));
  return { table, condition: `${anchor} AND ${or(conditions)}` };
}

function or(conditions: string[]): string {
  return conditions.length === 1 ? conditions[0] : `(${conditions.join(' OR ')})`;
}

function valueSql(param: SearchParamDef, s: string, value: string, modifier: string | undefined, ctx: CriterionContext): string {
  const p = ctx.params;
  switch (param.type) {
    case 'string': return stringCondition({ value: `${s}.value`, norm: `${s}.norm` }, value, modifier, p);
    case 'token': return tokenCondition({ system: `${s}.system`, code: `${s}.code`, text: `${s}.text`, ofType: `${s}.of_type` }, value, modifier, p);
    case 'date':
      if (modifier) throw badRequest(`Modifier :${modifier} is not supported on date parameters`);
      return dateCondition({ low: `${s}.low`, high: `${s}.high` }, value, p);
    case 'number':
      if (modifier) throw badRequest(`Modifier :${modifier} is not supported on number parameters`);
      return numberCondition(`${s}.value`, value, p);
    case 'quantity':
      if (modifier) throw badRequest(`Modifier :${modifier} is not supported on quantity parameters`);
      return quantityCondition({ value: `${s}.value`, system: `${s}.system`, code: `${s}.code`, unit: `${s}.unit`, low: `${s}.low`, high: `${s}.high`, range: `${s}.range` }, value, p);
    case 'uri': return uriCondition(`${s}.value`, value, modifier, p);
    case 'reference': return referenceSql(param, referenceColumns(s), value, modifier, ctx);
    case 'composite': return compositeSql(param, s, value, ctx);
    default: throw badRequest(`Search parameters of type ${param.type} are not supported`);
  }
}

const LOCAL = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

interface ReferenceColumns { targetType: string; targetId: string; url: string; identifierSystem: string; identifierValue: string }

function referenceColumns(s: string): ReferenceColumns {
  return { targetType: `${s}.target_type`, targetId: `${s}.target_id`, url: `${s}.url`, identifierSystem: `${s}.identifier_system`, identifierValue: `${s}.identifier_value` };
}

function referenceSql(param: SearchParamDef, cols: ReferenceColumns, raw: string, modifier: string | undefined, ctx: CriterionContext): string {
  const p = ctx.params;
  let value = unescapeValue(raw);
  if (modifier === 'identifier') {
    const [system, code] = splitEscaped(raw, '|').map(unescapeValue);
    if (code === undefined) return `${cols.identifierValue} = ${p.add(system)}`;
    return `(${cols.identifierValue} = ${p.add(code)} AND ${cols.identifierSystem} ${system ? `= ${p.add(system)}` : 'IS NULL'})`;
  }
  if (modifier && !ctx.model.isResourceType(modifier)) throw badRequest(`Modifier :${modifier} is not supported on reference parameters`);
  if (value.startsWith(`${ctx.fhirBaseUrl}/`)) value = value.slice(ctx.fhirBaseUrl.length + 1);
  // A relative canonical (`Questionnaire/gcs`, `library-x`) is stored as written in `url`.
  const asWritten = `${cols.url} = ${p.add(value)}`;
  const local = LOCAL.exec(value);
  if (local) {
    if (modifier && modifier !== local[1]) return 'false';
    return `((${cols.targetId} = ${p.add(local[2])} AND ${cols.targetType} = ${p.add(local[1])}) OR ${asWritten})`;
  }
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
    const types = modifier ? [modifier] : param.target;
    const typeCondition = types?.length ? ` AND ${cols.targetType} = ANY(${p.add(types, 'text[]')})` : '';
    return `((${cols.targetId} = ${p.add(value)}${typeCondition}) OR ${asWritten})`;
  }
  return asWritten;
}

function compositeSql(param: SearchParamDef, s: string, raw: string, ctx: CriterionContext): string {
  const components = param.component ?? [];
  const parts = splitEscaped(raw, '$');
  if (parts.length !== components.length) throw badRequest(`${param.code} takes ${components.length} values separated by $`);
  return `(${components.map((component, i) => {
    const def = ctx.model.getSearchParamByUrl(component.definition);
    if (!def) throw badRequest(`${param.code}: unknown component ${component.definition}`);
    const key = ctx.params.add(def.code);
    const field = (name: string) => `(${s}.components -> ${key} ->> '${name}')`;
    switch (def.type) {
      case 'token': return tokenCondition({ system: field('system'), code: field('code'), text: field('text') }, parts[i], undefined, ctx.params);
      case 'quantity': return quantityCondition({
        value: `${field('value')}::numeric`, system: field('system'), code: field('code'), unit: field('unit'),
        low: `${field('low')}::numeric`, high: `${field('high')}::numeric`, range: field('range'),
      }, parts[i], ctx.params);
      case 'number': return numberCondition(`${field('value')}::numeric`, parts[i], ctx.params);
      case 'date': return dateCondition({ low: `${field('low')}::timestamptz`, high: `${field('high')}::timestamptz` }, parts[i], ctx.params);
      case 'string': return stringCondition({ value: field('value'), norm: field('norm') }, parts[i], undefined, ctx.params);
      case 'uri': return uriCondition(field('value'), parts[i], undefined, ctx.params);
      case 'reference': return referenceSql(def, {
        targetType: field('targetType'), targetId: field('targetId'), url: field('url'),
        identifierSystem: field('identifierSystem'), identifierValue: field('identifierValue'),
      }, parts[i], undefined, ctx);
      default: throw badRequest(`${param.code}: components of type ${def.type} are not supported`);
    }
  }).join(' AND ')})`;
}

function idSql(criterion: SearchCriterion, alias: string, ctx: CriterionContext): string {
  if (criterion.modifier === 'missing') return criterion.values[0] === 'true' ? 'false' : 'true';
  if (criterion.modifier && criterion.modifier !== 'not') throw badRequest(`Modifier :${criterion.modifier} is not supported on _id`);
  const ids = criterion.values.map(unescapeValue);
  const test = `${alias}.id = ANY(${ctx.params.add(ids, 'text[]')})`;
  return criterion.modifier === 'not' ? `NOT ${test}` : test;
}

/** `subject:Patient.name=x`: a reference whose live target matches the chained criterion. */
function chainSql(criterion: SearchCriterion, alias: string, ctx: CriterionContext): string {
  const { chain, param } = criterion;
  const s = ctx.nextAlias();
  const t = ctx.nextAlias();
  const p = ctx.params;
  const targets = chain!.targetTypes.map((type, i) => `(${t}.resource_type = ${p.add(type)} AND ${criterionSql(chain!.criterion[i], t, ctx)})`);
  return `EXISTS (SELECT 1 FROM search_reference ${s} JOIN resource ${t} ON ${t}.resource_type = ${s}.target_type AND ${t}.id = ${s}.target_id AND NOT ${t}.deleted
    WHERE ${s}.resource_type = ${p.add(criterion.resourceType)} AND ${s}.resource_id = ${alias}.id AND ${s}.param = ${p.add(param.code)}
      AND ${s}.target_type = ANY(${p.add(chain!.targetTypes, 'text[]')}) AND ${or(targets)})`;
}

/** `_has:Observation:subject:code=x`: referenced by a live Observation matching the criterion. */
function hasSql(criterion: SearchCriterion, alias: string, ctx: CriterionContext): string {
  const { has } = criterion;
  const s = ctx.nextAlias();
  const t = ctx.nextAlias();
  const p = ctx.params;
  return `EXISTS (SELECT 1 FROM search_reference ${s} JOIN resource ${t} ON ${t}.resource_type = ${s}.resource_type AND ${t}.id = ${s}.resource_id AND NOT ${t}.deleted
    WHERE ${s}.resource_type = ${p.add(has!.sourceType)} AND ${s}.param = ${p.add(has!.referenceParam.code)}
      AND ${s}.target_type = ${p.add(criterion.resourceType)} AND ${s}.target_id = ${alias}.id
      AND ${criterionSql(has!.criterion, t, ctx)})`;
}

/**
 * The criteria a version alone cannot decide, evaluated with SQL against the current data:
 * a chain (`subject:Patient.name=x`) follows the version's own references to their targets as
 * they are now, and `_has` (`_has:Observation:subject:code=x`) looks for live resources that
 * refer to the changed one now. The SQL is the search engine's own (`criterion-sql.ts`), so
 * both mean what the REST search means; one statement per criterion and evaluation.
 * https://hl7.org/fhir/R4/search.html#chaining  https://hl7.org/fhir/R4/search.html#has
 */
import type { SearchCriterion } from '../../search/search-request.ts';
import { criterionSql, type CriterionContext } from '../../search/sql/criterion-sql.ts';
import { SqlParams } from '../../search/sql/sql-params.ts';
import type { Queryable } from '../../store/database.ts';
import type { ValueTestContext } from './value-tests.ts';
import type { IndexedVersion } from './indexed-version.ts';

/** A test that needs the database. */
export type CurrentDataTest = (version: IndexedVersion, db: Queryable) => Promise<boolean>;

function sqlContext(ctx: ValueTestContext, params: SqlParams): CriterionContext {
  let aliases = 0;
  return { model: ctx.model, params, fhirBaseUrl: ctx.fhirBaseUrl, nextAlias: () => `m${aliases++}` };
}

/** `EXISTS` a live resource of `type`, among `ids`, matching `criterion` (the chain's next link). */
function targetQuery(criterion: SearchCriterion, type: string, ids: string[], ctx: ValueTestContext): { sql: string; params: unknown[] } {
  const p = new SqlParams();
  const where = `r.resource_type = ${p.add(type)} AND r.id = ANY(${p.add(ids, 'text[]')}) AND NOT r.deleted`;
  const condition = criterionSql(criterion, 'r', sqlContext(ctx, p));
  return { sql: `SELECT EXISTS (SELECT 1 FROM resource r WHERE ${where} AND ${condition}) AS matched`, params: p.values };
}

/** `_has` on the resource with `id`: the condition is written against a one-row `r` holding the id. */
function hasQuery(criterion: SearchCriterion, id: string, ctx: ValueTestContext): { sql: string; params: unknown[] } {
  const p = new SqlParams();
  const row = `(SELECT ${p.add(id)}::text AS id) r`;
  const condition = criterionSql(criterion, 'r', sqlContext(ctx, p));
  return { sql: `SELECT (${condition}) AS matched FROM ${row}`, params: p.values };
}

async function ask(db: Queryable, query: { sql: string; params: unknown[] }): Promise<boolean> {
  const rows = await db.query<{ matched: boolean }>(query.sql, query.params);
  return rows[0]?.matched === true;
}

/**
 * Compiles a chained criterion: the version's reference rows of the chained parameter name the
 * targets; any of them that is live now and matches the next link matches. The SQL is built
 * once here, so a malformed value is refused (400) when the criteria are parsed.
 */
export function chainTest(criterion: SearchCriterion, ctx: ValueTestContext): CurrentDataTest {
  const chain = criterion.chain!;
  chain.targetTypes.forEach((type, i) => targetQuery(chain.criterion[i], type, ['-'], ctx));
  return async (version, db) => {
    const rows = version.rows.get(criterion.param.code) ?? [];
    for (const [i, type] of chain.targetTypes.entries()) {
      const ids = [...new Set(rows.flatMap((r) => (r.kind === 'reference' && r.targetType === type && r.targetId ? [r.targetId] : [])))];
      if (ids.length > 0 && await ask(db, targetQuery(chain.criterion[i], type, ids, ctx))) return true;
    }
    return false;
  };
}

/** Compiles a `_has` criterion (refusing a malformed value now): live resources referring to the changed one now. */
export function hasTest(criterion: SearchCriterion, ctx: ValueTestContext): CurrentDataTest {
  hasQuery(criterion, '-', ctx);
  return (version, db) => ask(db, hasQuery(criterion, version.id, ctx));
}

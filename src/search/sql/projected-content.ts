/**
 * SQL for a `resource` row's content cut down to a few top-level elements: the reads of the store
 * (`readCurrentMany`) and the reverse-reference search both use it. Here, with the rest of the
 * search SQL, because `search/` sits below `store/` (search builds SQL text; the store runs it).
 */

/**
 * SQL for a row's content cut down to the top-level elements in the `text[]` parameter
 * `elementsParam` (GraphQL reads only what a query selects): one pass of `json_each` over the
 * stored text; element values are copied as written, so decimals keep their digits.
 */
export function projectedContent(alias: string, elementsParam: string): string {
  return `(SELECT json_object_agg(e.key, e.value) FROM json_each(${alias}.content) e WHERE e.key = ANY(${elementsParam}::text[]))::text`;
}

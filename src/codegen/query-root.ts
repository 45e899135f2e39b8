/**
 * The query root: per resource type `T`, a read (`T(_id: ID)`, or `T(id: ID)` as Medplum's and
 * HAPI's documentation write it; exactly one of the two), a search returning a list
 * (`TList(<search args>, _count, _offset, _sort, _include, _revinclude, _total)`) and a cursor
 * search (`TConnection(<same>, _cursor)`) with its `TConnection`/`TEdge` types, as the FHIR
 * GraphQL page defines them. `_filter` is not offered (the search engine has no `_filter`).
 * https://hl7.org/fhir/R4/graphql.html#searching
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import { connectionTypeName, edgeTypeName, listFieldName, readFieldName } from './naming.ts';
import { LIST_RESULT_ARGS, listSearchArgs, renderArgs } from './search-args.ts';

/** SDL field lines of the query root for one resource type. https://hl7.org/fhir/R4/graphql.html#searching */
export function renderQueryFields(model: FhirModel, resourceType: string): string[] {
  const searchArgs = listSearchArgs(model, resourceType);
  return [
    `${readFieldName(resourceType)}(_id: ID, id: ID): ${resourceType}`,
    `${listFieldName(resourceType)}(${renderArgs(searchArgs, LIST_RESULT_ARGS)}): [${resourceType}]`,
    `${connectionTypeName(resourceType)}(${renderArgs(searchArgs, [...LIST_RESULT_ARGS, ['_cursor', 'String']])}): ${connectionTypeName(resourceType)}`,
  ];
}

/**
 * SDL of `TConnection` (a page of a search with the cursors of its neighbours) and `TEdge` (one
 * entry: search mode, score, resource). `_include`/`_revinclude` add entries of other types
 * (`search.mode = include`), which `resource: T` cannot carry: an edge's `resource` is its
 * resource when that is a `T`, and `included` (the `Resource` interface) is an included
 * resource of any type. https://hl7.org/fhir/R4/graphql.html#searching
 */
export function renderConnectionTypes(resourceType: string): string {
  return [
    `"A page of a ${resourceType} search, with cursors for the first, previous, next and last pages."`,
    `type ${connectionTypeName(resourceType)} {`,
    '  count: Int',
    '  offset: Int',
    '  pagesize: Int',
    '  first: String',
    '  previous: String',
    '  next: String',
    '  last: String',
    `  edges: [${edgeTypeName(resourceType)}]`,
    '}',
    '',
    `"One ${resourceType} search result: Bundle.entry.search.mode and score with the resource."`,
    `type ${edgeTypeName(resourceType)} {`,
    '  mode: String',
    '  score: Decimal',
    `  "The entry's resource when it is a ${resourceType} (every match, and an included ${resourceType}); null otherwise."`,
    `  resource: ${resourceType}`,
    '  "The included resource of an `include` entry, of any type (`... on Practitioner`); null on matches."',
    '  included: Resource',
    '}',
    '',
  ].join('\n');
}

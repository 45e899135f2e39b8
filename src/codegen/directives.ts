/**
 * The data-flattening directives of the FHIR GraphQL page, declared so that queries using them
 * validate: `@flatten`, `@first`, `@singleton` and `@slice(path:)`. They change only the shape of
 * the result, so the server applies them after execution (`src/graphql/result-directives.ts`).
 * https://hl7.org/fhir/R4/graphql.html#flattening
 */

/** The names of the result directives, as written in a query (without `@`). */
export const RESULT_DIRECTIVE_NAMES: readonly string[] = ['flatten', 'first', 'singleton', 'slice'];

/** The `$index` path of `@slice`: the position of the element in its list, from 0. */
export const SLICE_INDEX_PATH = '$index';

/**
 * The SDL of the four executable directives (`on FIELD`). `@slice`'s `path` is declared optional
 * so that a missing path is answered by the server's own check with `BAD_USER_INPUT` and a
 * message about the FHIR rule, rather than a generic validation failure.
 * https://hl7.org/fhir/R4/graphql.html#flattening
 */
export function renderResultDirectives(): string {
  return [
    '"""',
    'The field is not produced in the output: its children are put in the parent object in its place.',
    'Flattening a repeating field makes every collated child a list unless it is marked `@singleton`;',
    'a list child is concatenated across the flattened elements. https://hl7.org/fhir/R4/graphql.html#flattening',
    '"""',
    'directive @flatten on FIELD',
    '',
    '"""',
    'Only the first element of the list field (FHIRPath `[$index = 0]`), taken in its immediate source',
    'context: a single value, not a list (a list again when collated by a flattened parent).',
    'https://hl7.org/fhir/R4/graphql.html#flattening',
    '"""',
    'directive @first on FIELD',
    '',
    '"""',
    'The field collates to a single value, not a list, overriding the list a flattened parent makes of it.',
    'The server returns an error if there is more than one value. https://hl7.org/fhir/R4/graphql.html#flattening',
    '"""',
    'directive @singleton on FIELD',
    '',
    '"""',
    'Slices a list field into one output field per element, named `<field>.<value of path on the element>`',
    '(`name @slice(path: "use")` gives `name.official`, `name.usual`); with `@flatten`, the suffix goes on',
    'each child instead, and suffixes accumulate when slices nest. Outputs stay lists unless `@singleton`.',
    'https://hl7.org/fhir/R4/graphql.html#flattening',
    '"""',
    'directive @slice(',
    '  """',
    `  Required. \`${SLICE_INDEX_PATH}\` (the element's position, from 0) or an element path such as \`use\` or \`type.text\`.`,
    '  """',
    '  path: String',
    ') on FIELD',
    '',
  ].join('\n');
}

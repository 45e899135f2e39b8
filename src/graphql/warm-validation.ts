/**
 * Validation warmed before the server takes requests. The first validations of a process run in
 * V8's interpreter: on a fresh server the first document of 250 copies of one search blocked the
 * event loop 275 ms (review #10), ten times what the same document costs once the validation code
 * is compiled. Validating a few documents of the costly shapes at start (fields merged under one
 * response name, with arguments and nested selections; fragments; aliases) compiles it before any
 * client waits on it. https://spec.graphql.org/October2021/#sec-Validation
 */
import { parse, specifiedRules, validate, type GraphQLSchema, type ValidationRule } from 'graphql';

/** Documents of the shapes OverlappingFieldsCanBeMerged works hardest on, over FHIR fields. */
function warmUpDocuments(round: number): string[] {
  const merged = `a: PatientList(_count: 1, name: "w${round}") { id link { other { id } } } b: PatientList(_count: ${round}) { id gender }`;
  const fragments = Array.from({ length: 10 }, (_, i) => `fragment W${i} on Patient { ObservationList(_reference: subject, _count: ${i}) { id } name { family } }`);
  return [
    `{ ${Array(30).fill(merged).join(' ')} }`,
    `{ PatientList(_count: 1) { ${fragments.map((_, i) => `...W${i}`).join(' ')} } }\n${fragments.join('\n')}`,
    `{ ${Array.from({ length: 30 }, (_, i) => `p${i}: Patient(_id: "${i}") { id meta { lastUpdated } }`).join(' ')} }`,
  ];
}

/**
 * Validates the warm-up documents `rounds` times with graphql-js's rules and `rules` (the
 * server's own, so they compile too), and returns the milliseconds it took. Their answers are
 * thrown away: only the compiled code stays.
 */
export function warmValidation(schema: GraphQLSchema, rules: readonly ValidationRule[], rounds = 3): number {
  const started = performance.now();
  const all = [...specifiedRules, ...rules];
  for (let round = 0; round < rounds; round++) {
    for (const text of warmUpDocuments(round)) validate(schema, parse(text), all);
  }
  return performance.now() - started;
}

/**
 * The GraphQL pipeline warmed before the server takes requests. The first requests of a process
 * run in V8's interpreter and compile as they go: on a fresh server the first document of 250
 * copies of one search blocked the event loop 275 ms (review #10), several times what it costs
 * once the code is compiled. At start, validating a few documents of the costly shapes (fields
 * merged under one response name, with arguments and nested selections; fragments; aliases) and
 * running one operation that reads no data through Apollo (parsing, validation, the plugins, the
 * cost walk, execution, serialisation, and the query compiler on its second run) compiles that
 * code before any client waits on it.
 * https://spec.graphql.org/October2021/#sec-Validation
 */
import type { ApolloServer } from '@apollo/server';
import { parse, specifiedRules, validate, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { GraphQLContext } from './request-loaders.ts';

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
 * An operation that goes through every plugin and the cost walk but reads nothing (`@skip`); its
 * `Reference.resource` warms graphql-jit's code for abstract types when it is compiled.
 */
const WARM_UP_OPERATION = '{ __typename PatientList(_count: 1) @skip(if: true) { id ObservationList(_reference: subject) { id subject { resource { __typename } } } } }';

/**
 * Validates the warm-up documents `rounds` times with graphql-js's rules and `rules` (the
 * server's own, so they compile too), then runs {@link WARM_UP_OPERATION} through the started
 * `apollo` with `context` (a system context: nothing is charged or audited), and returns the
 * milliseconds it took. Every answer is thrown away: only the compiled code stays.
 */
export async function warmUpGraphQL(
  apollo: ApolloServer<GraphQLContext>, schema: GraphQLSchema, rules: readonly ValidationRule[], context: GraphQLContext, rounds = 3,
): Promise<number> {
  const started = performance.now();
  const all = [...specifiedRules, ...rules];
  for (let round = 0; round < rounds; round++) {
    for (const text of warmUpDocuments(round)) validate(schema, parse(text), all);
  }
  for (let round = 0; round < rounds; round++) await apollo.executeOperation({ query: `${WARM_UP_OPERATION} # ${round}` }, { contextValue: context });
  // A document's second run compiles it (`compiled-executor.ts`): the compiler's code warms too.
  await apollo.executeOperation({ query: `${WARM_UP_OPERATION} # ${rounds - 1}` }, { contextValue: context });
  return performance.now() - started;
}

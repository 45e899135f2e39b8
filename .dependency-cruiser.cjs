// @ts-check
/**
 * Imports in src/ run one way, and `npm run depcruise` (in .ci/run after the lint) keeps them so.
 * https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md
 *
 * The layers, lowest first. A module may import its own layer and any layer below it, never one
 * above it nor a peer on the same line (rest and graphql are separate facades; codegen and store
 * have nothing to say to each other):
 *
 *   config    src/config.ts, src/project-root.ts: the settings, read once from the environment
 *   fhir      definitions, the type model, validation, outcomes
 *   search    FHIR search → index rows and SQL text; pure: it runs no query
 *   | terminology  CodeSystem/ValueSet logic: expansion, lookup, code validation over resources
 *             passed in (pure but for reading its committed files; the operations fetch stored ones)
 *   codegen   the model → GraphQL SDL (pure; the GraphQL runtime builds on it, never the reverse)
 *   store     PostgreSQL: entities, migrations, repositories; runs what search builds
 *   changes   the change feed: sequencer, reader and fan-out, retention, criteria matching
 *   auth      tokens, client assertions, scopes, rate limits
 *   service   the core: authorise → validate → store/search → audit → emit change
 *   access    the HTTP request gate: authentication, rate limits and refusal audit (Security)
 *   webhooks  FHIR Subscription rest-hook delivery: dispatcher, delivery and replay workers over
 *             the change feed and the job queue (a peer of access: neither needs the other)
 *   rest      the REST facade        | graphql   the GraphQL facade
 *   operations the FHIR operations ($validate, $everything, $export…): a registry whose entries
 *             become REST routes and CapabilityStatement entries
 *   http      server wiring
 *   cli       the operator CLI       | main      the server process
 *
 * `search` sits below `store` (decided in issue 15, where each imported the other): search parses
 * queries, extracts index rows and writes SQL text without touching a connection, so it needs
 * nothing from the store; the store writes the rows search extracts (`reindex`, the repositories).
 *
 * Type-only imports count: a type from a higher layer ties the layers together as much as a value.
 * Only src/ is product code: it imports nothing from bench/, scripts/, test/ (they mount their own
 * routes through `startServer`'s `extraRoutes`).
 */

/** The layers, lowest first; names on one line are peers. Paths are regular expressions. */
const LAYERS = [
  { config: '^src/(config|project-root)\\.ts$' },
  { telemetry: '^src/telemetry/' },
  { fhir: '^src/fhir/' },
  { search: '^src/search/', terminology: '^src/terminology/' },
  { codegen: '^src/codegen/', store: '^src/store/' },
  { changes: '^src/changes/' },
  { auth: '^src/auth/' },
  { service: '^src/service/' },
  { access: '^src/access/', webhooks: '^src/webhooks/' },
  { rest: '^src/rest/', graphql: '^src/graphql/' },
  { operations: '^src/operations/' },
  { http: '^src/http/' },
  { cli: '^src/cli/', main: '^src/main\\.ts$' },
];

const anyOf = (/** @type {string[]} */ patterns) => `(${patterns.join('|')})`;

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const layerRules = LAYERS.flatMap((line, rank) => Object.entries(line).map(([name, path]) => {
  const below = LAYERS.slice(0, rank).flatMap((lower) => Object.keys(lower));
  const notAllowed = LAYERS.slice(rank).flatMap((upper) => Object.entries(upper)).filter(([other]) => other !== name);
  return {
    name: `layer-${name}`,
    comment: `${name} may import ${below.length ? below.join(', ') : 'nothing else in src/'} (and itself); not ${notAllowed.map(([other]) => other).join(', ')}`,
    severity: /** @type {const} */ ('error'),
    from: { path },
    to: { path: anyOf(notAllowed.map(([, p]) => p)) },
  };
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles in src/ (type-only imports included).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'src-in-a-layer',
      comment: 'Every module in src/ belongs to a layer: add a new folder to LAYERS in .dependency-cruiser.cjs.',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf(LAYERS.flatMap((line) => Object.values(line))) },
      to: {},
    },
    {
      name: 'src-is-product-code',
      comment: 'src/ never imports bench/, scripts/ or test/: they pass what they mount to startServer.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(bench|scripts|test)/|^codegen\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};

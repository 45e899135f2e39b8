/**
 * GraphQL Code Generator plugin that puts a header line on top of a generated TypeScript file
 * (`config.header`: what makes the file, so nobody edits it by hand), after checking that the CLI
 * handed it a schema at all.
 *
 * Why the check: the CLI (5.0.7) expects the steps of one output ("Load GraphQL schemas", "Load
 * GraphQL documents", "Generate") to run in order, as listr2 4, its declared range, runs them. The
 * `overrides` in package.json pin listr2 8, whose sub-lists inherit the parent's concurrency (the
 * CLI's `os.cpus().length`): "Generate" starts when the (empty) document step ends, and a schema
 * pointer that loads asynchronously (a file, a second pointer) is not there yet. The loaders of
 * `codegen.ts` are synchronous and finish first; should that change, this fails instead of writing
 * types for an empty schema. https://the-guild.dev/graphql/codegen/docs/custom-codegen/write-your-plugin
 */
import type { GraphQLSchema } from 'graphql';

/** Configuration of the plugin in `codegen.ts`. */
export interface HeaderPluginConfig {
  header: string;
}

/** The plugin: a `//` comment line, which the CLI sorts before the imports. */
export function plugin(schema: GraphQLSchema, _documents: unknown, config: HeaderPluginConfig): { prepend: string[]; content: string } {
  if (!schema.getQueryType()) throw new Error('codegen: the schema had not loaded when the output was generated (listr2 runs the steps concurrently; see src/codegen/codegen-header-plugin.ts)');
  return { prepend: [`// ${config.header}`], content: '' };
}

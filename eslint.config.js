// @ts-check
/**
 * ESLint runs one job here: refusing regular expressions whose worst case is super-linear
 * (catastrophic backtracking, issue 14), across src/, bench/, scripts/ and test/. Types and style
 * are the compiler's and the reviewers' business, so no other rule is on.
 * https://ota-meshi.github.io/eslint-plugin-regexp/rules/no-super-linear-backtracking.html
 */
import redos from 'eslint-plugin-redos';
import regexp from 'eslint-plugin-regexp';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['node_modules/**', 'src/graphql/generated/**', 'bench/results/**', '.data/**', '.test-data/**'] },
  {
    files: ['**/*.ts', '**/*.js'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { regexp, redos },
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': 'error',
      'redos/no-vulnerable': ['error', { timeout: 10000 }],
    },
  },
];

// @ts-check
/**
 * ESLint runs one job here: refusing regular expressions whose worst case is super-linear
 * (catastrophic backtracking, issue 14) across src/, bench/ and scripts/, and test/ but for the
 * recheck rule. Types and style are the compiler's and the reviewers' business, so no other rule
 * is on.
 * https://ota-meshi.github.io/eslint-plugin-regexp/rules/no-super-linear-backtracking.html
 */
import redos from 'eslint-plugin-redos';
import regexp from 'eslint-plugin-regexp';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['node_modules/**', 'console/dist/**', 'src/graphql/generated/**', 'bench/results/**', '.data/**', '.test-data/**'] },
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
  {
    // Tests match the server's own answers, not hostile input: a polynomial case such as `a.*b`
    // in an assertion is fine there (eslint-plugin-regexp's rules stay on).
    files: ['test/**/*.ts'],
    rules: { 'redos/no-vulnerable': 'off' },
  },
];

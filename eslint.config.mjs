import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.thodare/**', 'coverage/**', 'bin/**', '*.js', 'examples/*/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    // Migrations that must run outside a transaction are CommonJS, loaded by node-pg-migrate as they are.
    files: ['migrations/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { exports: 'writable', module: 'writable', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Node scripts of the repository's own (the peers harness runner).
    files: ['scripts/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The domain is the functional core: no framework, no database, no I/O, no clock.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*', 'pg', 'pg-*', 'node:*', 'fs', 'http', 'https', 'net', 'crypto'], message: 'src/domain is pure: no framework, database or I/O imports.' },
            { group: ['../../event-store/*', '../../projections/*', '../../worker/*', '../../http/*'], message: 'src/domain must not depend on the shell.' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Pass time into the domain.' },
        { object: 'Math', property: 'random', message: 'Pass randomness/ids into the domain.' },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'The domain never reads process state.' }],
    },
  },
);

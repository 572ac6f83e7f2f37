// ESLint: the recommended JavaScript and typescript-eslint rules. Layout is Prettier's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'reports/', '.stryker-tmp/', '.demo/', '.tmp/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests read Node-RED messages and API answers that have no static type, field by field.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The editor scripts: the build inlines each into the dialogs' .html, where the browser runs
    // it next to Node-RED's globals, so its top-level function is used there.
    files: ['nodes/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { RED: 'readonly', $: 'readonly', NUMERIC_SETTINGS: 'readonly' },
    },
    rules: { '@typescript-eslint/no-unused-vars': ['error', { vars: 'local' }] },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

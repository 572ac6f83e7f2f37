// ESLint: the recommended JavaScript and typescript-eslint rules. Layout is Prettier's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'reports/', '.stryker-tmp/', '.demo/', '.tmp/', 'resources/limits.js'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Node-RED's node constructors keep \`this\` (the node) for the callbacks they register.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node', 'runtime'] }],
    },
  },
  {
    // Tests read Node-RED messages and API answers that have no static type, field by field.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The editor script Node-RED serves from resources/: it runs in the browser next to
    // Node-RED's globals.
    files: ['resources/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { RED: 'readonly', $: 'readonly', window: 'readonly' },
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

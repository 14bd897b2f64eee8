import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['node_modules/', 'dist/', 'test-output/'] },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always'],
      'no-var': 'error',
      'prefer-const': 'error',
      // Rendering builds DOM nodes and sets textContent; never HTML from strings.
      'no-restricted-properties': [
        'error',
        { property: 'innerHTML', message: 'Use textContent and DOM nodes.' },
        { property: 'outerHTML', message: 'Use textContent and DOM nodes.' },
        { property: 'insertAdjacentHTML', message: 'Use textContent and DOM nodes.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='write'][callee.object.name='document']", message: 'No document.write.' },
      ],
      'no-eval': 'error',
      'no-implied-eval': 'error',
    },
  },
  {
    files: ['src/**/*.js'],
    languageOptions: { globals: { ...globals.browser, ...globals.webextensions } },
  },
  {
    files: ['src/background/**/*.js'],
    languageOptions: { globals: { ...globals.serviceworker, ...globals.webextensions } },
  },
  {
    files: ['test/**/*.js', 'test/**/*.mjs', 'build.mjs', 'eslint.config.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // functions passed to page.evaluate / worker.evaluate run in the page or the worker
    files: ['test/e2e/**/*.js'],
    languageOptions: { globals: { ...globals.node, document: 'readonly', chrome: 'readonly' } },
  },
];

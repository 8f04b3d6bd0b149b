// Lint rules for the TypeScript sources (Svelte files are checked by svelte-check).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist', 'node_modules', 'public', 'test-results', 'playwright-report', '**/*.svelte'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use a stream forked from the run’s Rng.' },
      ],
    },
  },
  {
    files: ['src/sim/**', 'src/scenario/**', 'simulations/**'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Schedule an event on the EventQueue.' },
        { name: 'setInterval', message: 'Schedule an event on the EventQueue.' },
        { name: 'performance', message: 'Use the simulated clock (nowUs).' },
        { name: 'Date', message: 'Use the simulated clock (nowUs).' },
      ],
    },
  },
);

// ESLint for the TypeScript of src/, test/, bench/ and the project's scripts: typescript-eslint's type-checked
// rules, Prettier's formatting left to Prettier, and Temporal's determinism rules for the workflow bundle.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Workflow code runs in Temporal's deterministic sandbox, which has no Node built-ins. */
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_') && !name.startsWith('node:'));

export default defineConfig(
  {
    // Build output, generated code, data and the Python package (ruff's).
    ignores: [
      '**/node_modules/',
      '**/dist/',
      '.data/',
      '.cache/',
      '.explore/',
      'bench/results/',
      'test/fixtures/',
      'src/client/schema.ts',
      'python/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits loses its errors; in a workflow it is a command Temporal may never see.
      '@typescript-eslint/no-floating-promises': 'error',
      // Numbers in messages and URLs are what templates are for; `undefined` or an object there is still a bug.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // noUncheckedIndexedAccess makes `list[0]!` after a length check the idiom; banning `!` means ~150 casts.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Data from the edges is less certain than its type: states persisted by older workflow versions, protobuf
      // messages, HTTP answers under test; the optional chains and `??` that guard them are deliberate.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // `child.on('exit', () => resolve())` is the usual shape of a callback; braces would add noise only.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `<K extends Name>(name: K) => table[name](figures[name])` needs K to correlate the two lookups, though K
      // appears once in the signature.
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      // A `let` a signal handler reads before start-up assigns it cannot be a `const` declared later.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // tsc's noUnusedLocals already reports the rest; `_`-names are the convention for deliberately unused ones,
      // e.g. the keys a rest destructuring leaves out.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['test/**'],
    rules: {
      // Mocha collects tests synchronously: an async describe callback registers its tests too late, or never.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.name=/^(describe|context)$/] > :function[async=true]',
          message: 'Mocha does not await a describe callback: set things up in before() instead.',
        },
      ],
    },
  },
  {
    // Plain JavaScript (the launcher scripts, the config itself) is outside tsconfig: no type information.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The workflow bundle: the workflows and the contract they load (what the samples' .eslintrc.js bans, and more).
    files: ['src/workflows/**', 'src/contract/**'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', '__dirname', '__filename', 'require'].map((name) => ({
          name,
          message: 'Node globals do not exist in the workflow sandbox.',
        })),
        ...['WeakRef', 'FinalizationRegistry'].map((name) => ({
          name,
          message: 'The workflow sandbox throws a DeterminismViolationError: garbage collection is not deterministic.',
        })),
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code runs in a deterministic sandbox without Node built-ins.',
          })),
          patterns: [
            {
              regex: '^node:',
              message: 'Workflow code runs in a deterministic sandbox without Node built-ins.',
            },
            {
              group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'],
              message:
                'Workflow code uses @temporalio/workflow (and @temporalio/common); the rest is not deterministic.',
            },
            {
              // Types are erased from the bundle; values would pull I/O into the workflow sandbox.
              regex: '^(\\.\\./)+(activities|api|worker|temporal|jobs|client|config|logger|start)(/|\\.js$|$)',
              allowTypeImports: true,
              message: 'Workflow code imports only the contract and other workflow code (types excepted).',
            },
          ],
        },
      ],
    },
  },
  prettier,
);

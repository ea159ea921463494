import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const nodeBuiltins = builtinModules
  .filter((m) => !m.startsWith('_'))
  .map(escape)
  .join('|');

// dsl/ and workflows/ run inside Temporal's deterministic workflow sandbox, replayed from
// history: no Node, no database, no ML runtime, no activity implementations (types are fine).
const deterministic = {
  files: ['dsl/**/*.ts', 'workflows/**/*.ts'],
  ignores: ['**/*.test.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^(node:.*|(${nodeBuiltins})(/.*)?)$`,
            message:
              'dsl/ and workflows/ are replayed by Temporal and must not use Node built-ins; do the I/O in an activity.',
            allowTypeImports: true,
          },
          {
            regex: '^(pg|drizzle-orm|@electric-sql/pglite|onnxruntime-(node|web|common)|@tensorflow/[^/]+)(/.*)?$',
            message: 'no database or ML runtime in deterministic code; call an activity that uses it.',
            allowTypeImports: true,
          },
          {
            regex: '^@temporalio/(worker|client|activity|testing)(/.*)?$',
            message: 'workflow code may import @temporalio/workflow and @temporalio/common only.',
            allowTypeImports: true,
          },
          {
            regex: '^(\\.\\./)+(activities|store|serving|monitor|workers|runtime|cli|bench)(/.*)?$',
            message: 'import only types from Node-side code: `import type { ... }`, then proxyActivities<...>().',
            allowTypeImports: true,
          },
        ],
      },
    ],
    'no-restricted-properties': [
      'error',
      {
        object: 'Date',
        property: 'now',
        message: 'use workflow time (new Date() inside a workflow is the workflow clock), or take it as an input.',
      },
      { object: 'Math', property: 'random', message: 'use wf.uuid4() or a generator seeded from the plan.' },
    ],
  },
};

export default defineConfig(
  globalIgnores(['node_modules/', '.tools/', '.kiln/', 'dist/', 'bench/.venv/', '**/*.js', '!eslint.config.js']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  deterministic,
);

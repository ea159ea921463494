import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// dsl/ and workflows/ are replayed by Temporal: no Node, store, activities or ML runtimes there.
const deterministic = {
  files: ['dsl/**/*.ts', 'workflows/**/*.ts'],
  ignores: ['**/*.test.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': ['error', {
      patterns: [
        { regex: '^(node:)?(fs|path|crypto|os|child_process|net|http|https|stream|zlib|worker_threads)(/.*)?$', message: 'dsl/ and workflows/ must stay Node-free', allowTypeImports: true },
        { regex: '^(pg|drizzle-orm|@electric-sql/pglite|onnxruntime-.*|@tensorflow/.*)(/.*)?$', message: 'no store or ML runtime in deterministic code', allowTypeImports: true },
        { regex: '^@temporalio/(worker|client|activity|testing)$', message: 'workflow code may use @temporalio/workflow and common only', allowTypeImports: true },
        { regex: '^\\.\\./(activities|store|serving|workers|cli|console)(/.*)?$', message: 'import only types from activities and the like', allowTypeImports: true },
      ],
    }],
    'no-restricted-properties': ['error',
      { object: 'Date', property: 'now', message: 'use workflow time: new Date() inside workflows' },
      { object: 'Math', property: 'random', message: 'use wf.uuid4() or a seeded generator' },
    ],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.kiln/**', '.tools/**', 'dist/**', 'bench/.venv/**', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  deterministic,
);

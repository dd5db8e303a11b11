/**
 * ESLint for src, test, bench and tools. `npm run lint` runs it beside Prettier (formatting) and dpdm (import cycles).
 *
 * typescript-eslint comes through tools/lint: its parser needs the TypeScript 5/6 JavaScript API even for rules
 * without types, and the project's TypeScript 7 ships none, so tools/lint gives it TypeScript 6 of its own.
 *
 * Rules without type information only (`recommended`, not `recommended-type-checked`). Type-aware rules would
 * build a second program with TypeScript 6, whose checker is not the one that builds this project (TypeScript 7),
 * and took four times as long here (about 60 s against 15 s); `npm run typecheck` under the tsconfig's `strict`
 * covers much of what they catch. Revisit when typescript-eslint runs on TypeScript 7's API (its issue 10940).
 * No consistent-type-imports either: without types it cannot tell which imports emitDecoratorMetadata needs
 * as values (inversify's constructor parameters).
 *
 * No stylistic rules: Prettier owns the layout, and eslint-config-prettier, last, turns off any that a shared
 * config may bring.
 */
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'tumblr-media-downloader-lint';

export default defineConfig(
  // node_modules/ (at any depth) is ignored by default; these are built or generated.
  globalIgnores(['dist/', 'docs/api/', '.tmp/', 'sample-output/']),
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      // For tools/*.mjs and bench/*.mjs: typescript-eslint turns no-undef off in .ts files, where tsc checks names.
      globals: globals.nodeBuiltin,
    },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // CommonJS preloads (`node -r`), such as test/support/without-sqlite.cjs.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      // An unused parameter, binding or caught error is deliberate when its name starts with `_`.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // `== null` is the one loose comparison worth having: it means null or undefined.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  prettier,
);

/**
 * typescript-eslint, running on the TypeScript 6 API that this folder's node_modules holds (see package.json).
 *
 * Every package that does `require('typescript')` must sit below this folder to find TypeScript 6; one hoisted
 * to the root node_modules would find the project's TypeScript 7, which has no JavaScript API, and fail with an
 * error that names neither. typescript-eslint's own packages stay here because their peer range excludes 7;
 * ts-api-utils stays here through the root package.json's override. This check names the culprit instead, so it
 * runs before typescript-eslint loads (required below, since a static import would load it first).
 */
import { createRequire } from 'node:module';

const here = createRequire(import.meta.url);
const estree = here.resolve('@typescript-eslint/typescript-estree');
for (const [name, from] of [
  ['@typescript-eslint/typescript-estree', estree],
  ['ts-api-utils', createRequire(estree).resolve('ts-api-utils')],
]) {
  const { version } = createRequire(from)('typescript/package.json');
  if (Number(version.split('.')[0]) >= 7) {
    throw new Error(
      `${name} (${from}) resolves TypeScript ${version}, which has no JavaScript API: it must be installed under tools/lint/node_modules (npm ci from the lock file).`,
    );
  }
}

export default here('typescript-eslint');

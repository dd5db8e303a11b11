import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Path of the built CLI. */
export const BUILT_CLI = fileURLToPath(new URL('../../dist/cli/tumblr-dl.js', import.meta.url));

/** Build `dist/` unless `npm test` already did (it builds first). */
export function ensureBuilt(): void {
  if (!existsSync(BUILT_CLI))
    execFileSync(process.execPath, [fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
}

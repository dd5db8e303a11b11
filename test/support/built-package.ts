import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Path of the built CLI: the bundle that package.json's `bin` names, what users run (tools/bundle-cli.mjs). */
export const BUILT_CLI = fileURLToPath(new URL('../../dist/cli/tumblr-dl.bundle.js', import.meta.url));

/** Build `dist/` and the CLI bundle unless `npm test` already did (it builds first): `npm run build`'s two steps. */
export function ensureBuilt(): void {
  if (existsSync(BUILT_CLI)) return;
  const run = (script: string, args: string[]): void => {
    execFileSync(process.execPath, [fileURLToPath(new URL(`../../${script}`, import.meta.url)), ...args], { cwd: ROOT, stdio: 'inherit' });
  };
  run('node_modules/typescript/bin/tsc', ['-p', 'tsconfig.build.json']);
  run('tools/bundle-cli.mjs', []);
}

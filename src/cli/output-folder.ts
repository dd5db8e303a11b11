import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { explain } from './explain-fs-error.js';

/**
 * Why `dir` cannot be the output folder (created if missing), in words, or `undefined` when it can.
 * `mkdir -p` under a read-only mount says ENOENT, so the nearest existing folder is asked why.
 */
export function folderProblem(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return explain(error);
    let existing = path.dirname(dir);
    while (!existsSync(existing) && existing !== path.dirname(existing)) existing = path.dirname(existing);
    try {
      accessSync(existing, constants.W_OK);
    } catch (parentError) {
      return explain(parentError);
    }
    return explain(error);
  }
}

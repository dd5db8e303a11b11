import * as path from 'node:path';
import { DownloadError } from '../errors/download-error.js';

/** The folder inside `outputDir` that holds a run's state (the lock, the ledger): no download may name anything in it. */
export const STATE_FOLDER = '.tumblr-dl';

/**
 * Resolve `filename` under `outputDir` and prove the result stays inside it and out of its state folder
 * ({@link STATE_FOLDER}). Relative names may contain sub-folders; `..`, absolute paths outside the
 * folder, the state folder and NUL bytes are refused. A host naming files from crawled values calls it
 * (or lets the downloader call it) on every name.
 * @throws DownloadError `UNSAFE_PATH`
 */
export function resolveInside(outputDir: string, filename: string, url?: string): string {
  if (typeof filename !== 'string' || filename === '' || filename.includes('\0')) {
    throw new DownloadError('UNSAFE_PATH', `Unusable file name ${JSON.stringify(filename)}`, { url });
  }
  const root = path.resolve(outputDir);
  const target = path.resolve(root, filename);
  const relative = path.relative(root, target);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new DownloadError('UNSAFE_PATH', `File name ${JSON.stringify(filename)} leaves the output directory ${root}`, { url });
  }
  if (relative.split(path.sep)[0]!.toLowerCase() === STATE_FOLDER) {
    // Lower-cased: on a case-insensitive file system `.TUMBLR-DL` is the same folder.
    throw new DownloadError('UNSAFE_PATH', `File name ${JSON.stringify(filename)} is inside the state folder ${STATE_FOLDER}/ of ${root}`, { url });
  }
  if (Buffer.byteLength(path.basename(target)) > 240) {
    // Leave room for ".part.json" and a collision suffix within the usual 255-byte limit.
    throw new DownloadError('UNSAFE_PATH', `File name ${JSON.stringify(path.basename(target))} is too long`, { url });
  }
  return target;
}

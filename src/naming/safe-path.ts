import * as path from 'node:path';
import { DownloadError } from '../errors/download-error.js';

/**
 * Resolve `filename` under `outputDir` and prove the result stays inside it.
 * Relative names may contain sub-directories; `..`, absolute paths outside the
 * directory and NUL bytes are refused.
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
  if (Buffer.byteLength(path.basename(target)) > 240) {
    // Leave room for ".part.json" and a collision suffix within the usual 255-byte limit.
    throw new DownloadError('UNSAFE_PATH', `File name ${JSON.stringify(path.basename(target))} is too long`, { url });
  }
  return target;
}

import { readFileSync } from 'node:fs';
import { DownloadError } from '../errors/download-error.js';
import { closest } from './closest-name.js';

/** The part of a JSON Schema this check reads: object properties, nested. */
interface ObjectSchema {
  properties?: Record<string, ObjectSchema & { type?: string }>;
}

let schema: ObjectSchema | undefined;

/**
 * The config schema of `plugin.manifest.json`, the one the host validates against: read once, from
 * the package root (beside `dist/` and `src/` alike).
 */
function configSchema(): ObjectSchema {
  schema ??= (JSON.parse(readFileSync(new URL('../../plugin.manifest.json', import.meta.url), 'utf8')) as { configSchema: ObjectSchema }).configSchema;
  return schema;
}

/**
 * Refuse every key the manifest's config schema does not name, by its path, with the nearest known key:
 * `unknown option "maxConcurent" (did you mean "maxConcurrent"?)`. A misspelt option silently ignored
 * would run an archive with a default the user meant to change. Works for JavaScript callers too.
 * @throws DownloadError `INVALID_CONFIG`
 */
export function rejectUnknownKeys(input: object): void {
  const problems: string[] = [];
  const walk = (value: Record<string, unknown>, node: ObjectSchema, prefix: string): void => {
    const known = Object.keys(node.properties ?? {});
    for (const [key, nested] of Object.entries(value)) {
      const child = node.properties?.[key];
      if (!child) {
        const guess = closest(key, known);
        problems.push(`unknown option "${prefix}${key}"${guess ? ` (did you mean "${prefix}${guess}"?)` : ''}`);
      } else if (child.type === 'object' && typeof nested === 'object' && nested !== null && !Array.isArray(nested)) {
        walk(nested as Record<string, unknown>, child, `${prefix}${key}.`);
      }
    }
  };
  walk(input as Record<string, unknown>, configSchema(), '');
  if (problems.length > 0) throw new DownloadError('INVALID_CONFIG', `Invalid downloader config: ${problems.join('; ')}`);
}

import { ITEM_MEDIA_TYPES } from '../../model/media-item.js';
import { mediaTypeForExtension } from '../../verify/media-formats.js';
import { extensionFromUrl } from '../../naming/filename-generator.js';
import { closest } from '../../config/closest-name.js';
import { isRecord } from '../../tumblr/json-fields.js';
import type { MediaRow } from './input-entry.js';

/** The keys an item line (JSON or a CSV header) may name. */
export const ITEM_KEYS = ['url', 'urls', 'postId', 'mediaType', 'index', 'priority', 'metadata'] as const;

/**
 * Unknown keys of item lines, each said once per run: a `post_id` silently dropped would flatten an
 * archive that was meant to be named by post.
 */
export class UnknownKeys {
  private readonly said = new Set<string>();

  /** One warning for each key of `fields` that no item takes and that was not warned about before. */
  warnings(keys: Iterable<string>): string[] {
    const out: string[] = [];
    for (const key of keys) {
      if ((ITEM_KEYS as readonly string[]).includes(key) || this.said.has(key)) continue;
      this.said.add(key);
      const near = closest(key.toLowerCase(), [...ITEM_KEYS]) ?? ITEM_KEYS.find((k) => k.toLowerCase() === key.replace(/[_-]/g, '').toLowerCase());
      out.push(`input key "${key}" is not read${near ? `: did you mean "${near}"?` : ''} (items take ${ITEM_KEYS.join(', ')})`);
    }
    return out;
  }
}

/**
 * An item from the fields of a JSON line or a CSV row. @throws Error naming the bad field: a value of the
 * wrong type is bad input, never coerced
 */
export function itemFromFields(fields: Record<string, unknown>, line: number): MediaRow {
  const urls = urlList(fields.urls);
  // `urls` is the item's URLs, best first; with a `url` too, that one comes first.
  const url = text(fields, 'url') ?? urls.shift();
  if (url === undefined) throw new Error('no "url"');
  const fallbackUrls = urls.filter((u) => u !== url);
  const given = text(fields, 'mediaType');
  if (given !== undefined && !ITEM_MEDIA_TYPES.has(given)) throw new Error(`unknown mediaType "${given}" (image, video, gif or audio)`);
  const extension = extensionFromUrl(url) ?? '';
  // Tumblr's `.gifv` is a GIF post served as video or WebP: a GIF to the downloader, which names it by its bytes.
  const inferred = extension === 'gifv' ? 'gif' : mediaTypeForExtension(extension);
  const mediaType = (given ?? (inferred === 'file' ? 'image' : inferred)) as MediaRow['mediaType'];
  const indexText = text(fields, 'index', true);
  const index = indexText === undefined ? 0 : /^\d+$/.test(indexText) ? Number(indexText) : NaN;
  if (!Number.isSafeInteger(index) || index < 0) throw new Error(`"index" must be a whole number ≥ 0, got ${JSON.stringify(fields.index)}`);
  const postId = text(fields, 'postId', true) ?? 'media';
  const priorityText = text(fields, 'priority', true);
  const priority = priorityText === undefined ? undefined : /^-?\d+$/.test(priorityText) ? Number(priorityText) : NaN;
  if (priority !== undefined && !Number.isSafeInteger(priority)) throw new Error(`"priority" must be a whole number, got ${JSON.stringify(fields.priority)}`);
  const metadata = fields.metadata;
  if (metadata !== undefined && !isRecord(metadata)) {
    throw new Error(`"metadata" must be an object, got ${JSON.stringify(metadata)}`);
  }
  return {
    url,
    postId,
    mediaType,
    index,
    line,
    ...(priority === undefined ? {} : { priority }),
    ...(fallbackUrls.length === 0 ? {} : { fallbackUrls }),
    ...(metadata === undefined ? {} : { metadata: metadata as Record<string, unknown> }),
  };
}

/** A field that is text, or absent; anything else (`true`, `{…}`, `null`) is bad input, never coerced. */
function text(fields: Record<string, unknown>, key: string, allowNumber = false): string | undefined {
  const value = fields[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (allowNumber && typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new Error(`"${key}" must be ${allowNumber ? 'a string or a whole number' : 'a string'}, got ${JSON.stringify(value)}`);
}

/** A JSON `urls` field: a list of URL strings, or nothing. Anything else is bad input, never coerced. */
function urlList(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((u) => typeof u !== 'string' || u === '')) throw new Error(`"urls" must be a list of URLs, got ${JSON.stringify(value)}`);
  return [...(value as string[])];
}

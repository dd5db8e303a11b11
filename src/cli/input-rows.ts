import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ITEM_MEDIA_TYPES, type MediaItem } from '../model/media-item.js';
import { mediaTypeForExtension } from '../verify/media-formats.js';
import { extensionFromUrl } from '../naming/filename-generator.js';

/** One item to download, from a line of the input. */
export type MediaRow = MediaItem;

/** A line that could not be understood; reported, never fatal. */
export interface BadRow {
  line: number;
  problem: string;
}

/** CSV column names, lower-cased, to the keys of a row. */
const CSV_COLUMNS: Readonly<Record<string, string>> = { url: 'url', postid: 'postId', mediatype: 'mediaType', index: 'index', priority: 'priority' };

/**
 * Read an input file as a stream, one item per line, so 100k-line inputs never
 * sit in memory. Accepted lines: a bare URL; a JSON object
 * `{url, urls?, postId?, mediaType?, index?, priority?}` (`urls`: the item's URLs, best first); or, in a `.csv` file, rows under a
 * header naming `url` and optionally `postId`, `mediaType`, `index`, `priority`. Blank
 * lines and lines starting with `#` are skipped.
 */
export async function* readInputRows(file: string, signal?: AbortSignal): AsyncGenerator<MediaRow | BadRow> {
  const input = file === '-' ? process.stdin : createReadStream(file, 'utf8');
  // An abort (Ctrl-C) ends the loop at once, even while stdin has no line to give.
  const lines = createInterface({ input, crlfDelay: Infinity, ...(signal ? { signal } : {}) });
  if (file !== '-') signal?.addEventListener('abort', () => input.destroy(), { once: true });
  const isCsv = file.toLowerCase().endsWith('.csv');
  let header: string[] | undefined;
  let line = 0;
  for await (const raw of lines) {
    line++;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) continue;
    if (isCsv && !header) {
      // Column names match whatever their case: `URL,PostId` is the same header as `url,postId`.
      header = parseCsvLine(text).map((h) => CSV_COLUMNS[h.trim().toLowerCase()] ?? h.trim());
      if (!header.includes('url')) yield { line, problem: 'CSV header must name a "url" column' };
      continue;
    }
    try {
      if (text.startsWith('{')) yield toRow(parseObject(text), line);
      else if (header) yield toRow(Object.fromEntries(parseCsvLine(text).map((v, i) => [header![i] ?? `col${i}`, v])), line);
      else yield toRow({ url: text }, line);
    } catch (error) {
      yield { line, problem: (error as Error).message };
    }
  }
}

/** A JSON line that must be an object (`null`, an array or a number are bad input, not an item). */
function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('a JSON line must be an object with a "url"');
  return value as Record<string, unknown>;
}

/** A field that is text, or absent; anything else (`true`, `{…}`, `null`) is bad input, never coerced. */
function text(fields: Record<string, unknown>, key: string, allowNumber = false): string | undefined {
  const value = fields[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (allowNumber && typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new Error(`"${key}" must be ${allowNumber ? 'a string or a whole number' : 'a string'}, got ${JSON.stringify(value)}`);
}

function toRow(fields: Record<string, unknown>, line: number): MediaRow {
  const urls = urlList(fields.urls);
  // `urls` is the item's URLs, best first; with a `url` too, that one comes first.
  const url = text(fields, 'url') ?? urls.shift();
  if (url === undefined) throw new Error('no "url"');
  const fallbackUrls = urls.filter((u) => u !== url);
  const given = text(fields, 'mediaType');
  if (given !== undefined && !ITEM_MEDIA_TYPES.has(given)) throw new Error(`unknown mediaType "${given}" (image, video or gif)`);
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
  return { url, postId, mediaType, index, line, ...(priority === undefined ? {} : { priority }), ...(fallbackUrls.length === 0 ? {} : { fallbackUrls }) };
}

/** A JSON `urls` field: a list of URL strings, or nothing. Anything else is bad input, never coerced. */
function urlList(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((u) => typeof u !== 'string' || u === '')) throw new Error(`"urls" must be a list of URLs, got ${JSON.stringify(value)}`);
  return [...(value as string[])];
}

/** Split one CSV line, honouring double quotes and doubled quotes inside them. */
export function parseCsvLine(text: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { MediaType } from '../verify/media-type.js';
import { mediaTypeForExtension } from '../verify/media-type.js';
import { extensionFromUrl } from '../naming/filename-generator.js';

/** One item to download, from a line of the input. */
export interface MediaRow {
  url: string;
  postId: string;
  mediaType: Exclude<MediaType, 'file'>;
  index: number;
  /** 1-based line number in the input, for messages. */
  line: number;
}

/** A line that could not be understood; reported, never fatal. */
export interface BadRow {
  line: number;
  problem: string;
}

const MEDIA_TYPES = new Set(['image', 'video', 'gif']);

/**
 * Read an input file as a stream, one item per line, so 100k-line inputs never
 * sit in memory. Accepted lines: a bare URL; a JSON object
 * `{url, postId?, mediaType?, index?}`; or, in a `.csv` file, rows under a
 * header naming `url` and optionally `postId`, `mediaType`, `index`. Blank
 * lines and lines starting with `#` are skipped.
 */
export async function* readInputRows(file: string): AsyncGenerator<MediaRow | BadRow> {
  const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file, 'utf8'), crlfDelay: Infinity });
  const isCsv = file.toLowerCase().endsWith('.csv');
  let header: string[] | undefined;
  let line = 0;
  for await (const raw of lines) {
    line++;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) continue;
    if (isCsv && !header) {
      header = parseCsvLine(text).map((h) => h.trim());
      if (!header.includes('url')) yield { line, problem: 'CSV header must name a "url" column' };
      continue;
    }
    try {
      if (text.startsWith('{')) yield toRow(JSON.parse(text) as Record<string, unknown>, line);
      else if (header) yield toRow(Object.fromEntries(parseCsvLine(text).map((v, i) => [header![i] ?? `col${i}`, v])), line);
      else yield toRow({ url: text }, line);
    } catch (error) {
      yield { line, problem: (error as Error).message };
    }
  }
}

function toRow(fields: Record<string, unknown>, line: number): MediaRow {
  const url = fields.url;
  if (typeof url !== 'string' || url === '') throw new Error('no "url"');
  const given = fields.mediaType;
  if (given !== undefined && given !== '' && !MEDIA_TYPES.has(String(given))) throw new Error(`unknown mediaType "${String(given)}"`);
  const extension = extensionFromUrl(url) ?? '';
  // Tumblr's `.gifv` is a GIF post served as video or WebP: a GIF to the downloader, which names it by its bytes.
  const inferred = extension === 'gifv' ? 'gif' : mediaTypeForExtension(extension);
  const mediaType = (given ? String(given) : inferred === 'file' ? 'image' : inferred) as MediaRow['mediaType'];
  const index = fields.index === undefined || fields.index === '' ? 0 : Number(fields.index);
  if (!Number.isSafeInteger(index) || index < 0) throw new Error(`index must be a whole number ≥ 0, got ${String(fields.index)}`);
  const postId = fields.postId === undefined || fields.postId === '' ? 'media' : String(fields.postId);
  return { url, postId, mediaType, index, line };
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

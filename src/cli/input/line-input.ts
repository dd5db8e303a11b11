import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { entriesOfJson } from './document-entries.js';
import type { InputEntry } from './input-entry.js';
import { itemFromFields, type UnknownKeys } from './item-fields.js';

/** CSV column names, lower-cased, to the keys of an item. */
const CSV_COLUMNS: Readonly<Record<string, string>> = { url: 'url', postid: 'postId', mediatype: 'mediaType', index: 'index', priority: 'priority' };

/**
 * Read a line-based input as a stream, so 100k-line inputs never sit in memory. Each line is a bare
 * URL; a JSON value (an item `{url, urls?, postId?, mediaType?, index?, priority?, metadata?}`, a Tumblr
 * post, or a page of posts); or, in a `.csv` file, a row under a header naming `url` and optionally
 * `postId`, `mediaType`, `index`, `priority`. Blank lines and lines starting with `#` are skipped.
 */
export async function* readLines(file: string, keys: UnknownKeys, signal?: AbortSignal): AsyncGenerator<InputEntry> {
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
    const at = { line };
    if (isCsv && !header) {
      // Column names match whatever their case: `URL,PostId` is the same header as `url,postId`.
      header = parseCsvLine(text).map((h) => CSV_COLUMNS[h.trim().toLowerCase()] ?? h.trim());
      if (!header.includes('url')) yield { at, problem: 'CSV header must name a "url" column' };
      for (const warning of keys.warnings(header)) yield { warning };
      continue;
    }
    if (text.startsWith('{') || text.startsWith('[')) {
      const parsed = parseJson(text);
      if (parsed.ok) yield* entriesOfJson(parsed.value, at, keys);
      else yield { at, problem: 'not valid JSON' };
      continue;
    }
    try {
      yield itemFromFields(header ? Object.fromEntries(parseCsvLine(text).map((v, i) => [header![i] ?? `col${i}`, v])) : { url: text }, line);
    } catch (error) {
      yield { at, problem: (error as Error).message };
    }
  }
}

/** JSON text parsed, or a note that it is not JSON. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
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

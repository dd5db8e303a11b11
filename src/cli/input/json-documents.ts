import { promises as fs, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { STATE_FOLDER } from '../../naming/safe-path.js';
import { MEDIA_EXTENSIONS } from '../../verify/media-formats.js';
import { entriesOfJson } from './document-entries.js';
import type { InputEntry } from './input-entry.js';
import { parseJson } from './line-input.js';
import type { UnknownKeys } from './item-fields.js';
import { explain } from '../explain-fs-error.js';

/**
 * Largest JSON document read whole. A tumblr-utils post is a few kilobytes and an API page well under a
 * megabyte; a bigger file is an export that belongs in JSONL (one post per line), which streams.
 */
export const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

/**
 * The entries of one JSON document: a post, an array of posts, `{"posts": […]}` or an API response page.
 * `name` is how messages name it. A document that cannot be read or parsed is one {@link BadRow}.
 */
export async function* readJsonDocument(file: string, name: string, keys: UnknownKeys): AsyncGenerator<InputEntry> {
  const at = { file: name, line: 0 };
  let text: string;
  try {
    const size = (await fs.stat(file)).size;
    if (size > MAX_DOCUMENT_BYTES) {
      yield { at, problem: `${size} bytes is too large for one JSON document; write it as JSONL, one post per line` };
      return;
    }
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    yield { at, problem: `cannot read: ${explain(error)}` };
    return;
  }
  const parsed = parseJson(text);
  if (!parsed.ok) {
    yield { at, problem: `not valid JSON (${parsed.reason})` };
    return;
  }
  yield* entriesOfJson(parsed.value, at, keys);
}

/**
 * Every `*.json` under a folder, recursively, in name order (`2.json` before `10.json`), as a
 * tumblr-utils backup keeps `json/<id>.json`. Hidden folders (our own `.tumblr-dl/`), symbolic links and
 * metadata files written beside media (`photo.jpg.json`) are passed over: an archive folder given as
 * input must not read its own output as posts.
 */
export async function* readPostFolder(folder: string, keys: UnknownKeys, signal?: AbortSignal): AsyncGenerator<InputEntry> {
  const named = (file: string): string => path.relative(folder, file).split(path.sep).join('/') || '.';
  for await (const found of jsonFilesUnder(folder, signal)) {
    if (signal?.aborted) return;
    // A sub-folder that cannot be listed is one bad entry, as an unreadable document is: the rest is read.
    if (typeof found !== 'string') yield { at: { file: `${named(found.folder)}/`, line: 0 }, problem: `cannot list: ${explain(found.error)}` };
    else yield* readJsonDocument(found, named(found), keys);
  }
}

/** The documents under `folder`, depth first in name order, and each sub-folder that could not be listed. */
async function* jsonFilesUnder(folder: string, signal?: AbortSignal): AsyncGenerator<string | { folder: string; error: unknown }> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(folder, { withFileTypes: true });
  } catch (error) {
    yield { folder, error };
    return;
  }
  entries.sort((a, b) => byName().compare(a.name, b.name));
  for (const entry of entries) {
    if (signal?.aborted) return;
    if (entry.name.startsWith('.') || entry.name === STATE_FOLDER) continue;
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) yield* jsonFilesUnder(full, signal);
    else if (entry.isFile() && isPostDocumentName(entry.name)) yield full;
  }
}

/**
 * Numbers in names compare as numbers: post `9.json` comes before post `10.json`. Made on first use: building
 * the collator costs about 8 ms, which every `fetch` paid at start-up, folder of posts or not.
 */
let collator: Intl.Collator | undefined;
const byName = (): Intl.Collator => (collator ??= new Intl.Collator('en', { numeric: true }));

/** `123.json` is a document; `photo.jpg.json` (a metadata file) and `x.part.json` (resume state) are not. */
export function isPostDocumentName(name: string): boolean {
  const lower = name.toLowerCase();
  if (!lower.endsWith('.json')) return false;
  const inner = path.extname(lower.slice(0, -'.json'.length)).slice(1);
  return inner !== 'part' && !MEDIA_EXTENSIONS.has(inner);
}

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { InputEntry } from './input-entry.js';
import { UnknownKeys } from './item-fields.js';
import { readJsonDocument, readPostFolder } from './json-documents.js';
import { readLines } from './line-input.js';

/**
 * How an input is read: a regular file line by line (URLs, JSONL, CSV), a stream line by line (stdin, a
 * pipe: read once, never counted or sniffed ahead), one JSON document, or a folder of them.
 */
export type InputKind = 'lines' | 'stream' | 'document' | 'folder';

/** How `input` will be read: a folder, a regular `.json` file, a pipe or stdin, or a file read line by line. @throws the file system's error */
export async function inputKind(input: string): Promise<InputKind> {
  if (input === '-') return 'stream';
  const found = await fs.stat(input);
  if (found.isDirectory()) return 'folder';
  if (!found.isFile()) return 'stream';
  return input.toLowerCase().endsWith('.json') && !(await looksLikeJsonLines(input)) ? 'document' : 'lines';
}

/**
 * Every entry of an input, streamed: items to fetch, embeds to report, bad entries with their position,
 * and warnings. A folder is read as a tumblr-utils `json/` folder; a `.json` file as one JSON document
 * (unless it is JSONL under that name); anything else, and `-` (stdin), line by line.
 * @param kind what {@link inputKind} said of `input`
 */
export async function* readInput(input: string, kind: InputKind, signal?: AbortSignal): AsyncGenerator<InputEntry> {
  const keys = new UnknownKeys();
  switch (kind) {
    case 'folder':
      yield* readPostFolder(input, keys, signal);
      return;
    case 'document':
      yield* readJsonDocument(input, path.basename(input), keys);
      return;
    default:
      yield* readLines(input, keys, signal);
  }
}

/** The longest first line looked at to tell JSONL from a document: a post with a long trail is well under it. */
const MAX_FIRST_LINE = 16 * 1024 * 1024;

/**
 * Whether a regular `.json` file is JSONL under that name: its first line alone is a whole JSON object,
 * and more follows. A pretty-printed document's first line is `{`, and a one-line document is read the
 * same either way.
 */
async function looksLikeJsonLines(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const chunks: Buffer[] = [];
    let read = 0;
    let newline = -1;
    // Read on to the first newline: a post on one line of a JSONL file can be far longer than one read.
    while (newline === -1 && read < Math.min(size, MAX_FIRST_LINE)) {
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, read);
      if (bytesRead === 0) break;
      const at = chunk.subarray(0, bytesRead).indexOf(0x0a);
      if (at !== -1) newline = read + at;
      chunks.push(chunk.subarray(0, bytesRead));
      read += bytesRead;
    }
    if (newline === -1) return false;
    const head = Buffer.concat(chunks);
    const first = head.subarray(0, newline).toString('utf8').trim();
    // Something after the first line (read, or still unread) is what makes it more than one document.
    const more =
      head
        .subarray(newline + 1)
        .toString('utf8')
        .trim() !== '' || size > read;
    if (!first.startsWith('{') || !more) return false;
    try {
      JSON.parse(first);
      return true;
    } catch {
      return false;
    }
  } finally {
    await handle.close();
  }
}

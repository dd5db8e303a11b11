import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { InputEntry } from './input-entry.js';
import { UnknownKeys } from './item-fields.js';
import { readJsonDocument, readPostFolder } from './json-documents.js';
import { readLines } from './line-input.js';

/** How an input is read: line by line (URLs, JSONL, CSV, stdin), as one JSON document, or as a folder of them. */
export type InputKind = 'lines' | 'document' | 'folder';

/** How `input` will be read: a folder, a `.json` file, or anything else line by line. */
export async function inputKind(input: string): Promise<InputKind> {
  if (input === '-') return 'lines';
  const found = await fs.stat(input);
  if (found.isDirectory()) return 'folder';
  return input.toLowerCase().endsWith('.json') && !(await looksLikeJsonLines(input)) ? 'document' : 'lines';
}

/**
 * Every entry of an input, streamed: items to fetch, embeds to report, bad entries with their position,
 * and warnings. A folder is read as a tumblr-utils `json/` folder; a `.json` file as one JSON document
 * (unless it is JSONL under that name); anything else, and `-` (stdin), line by line.
 */
export async function* readInput(input: string, signal?: AbortSignal): AsyncGenerator<InputEntry> {
  const keys = new UnknownKeys();
  switch (await inputKind(input)) {
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

/**
 * Whether a `.json` file is JSONL under that name: its first line alone is a whole JSON object. A
 * pretty-printed document's first line is `{`, and a one-line document is read the same either way.
 */
async function looksLikeJsonLines(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const text = head.subarray(0, bytesRead).toString('utf8');
    const newline = text.indexOf('\n');
    if (newline === -1) return false;
    const first = text.slice(0, newline).trim();
    const rest = text.slice(newline + 1).trim();
    if (!first.startsWith('{') || rest === '') return false;
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

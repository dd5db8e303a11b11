/** The files of a WARC folder: their names as they are written, finished (indexed and renamed), read. */
import { open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { DownloadError } from '../errors/download-error.js';
import { writeFullyAt } from '../downloader/disk/write-fully.js';
import { surt } from './surt.js';
import type { CdxjFields, WrittenRecord } from './warc-record.js';

/** A WARC being written. */
export const WARC_OPEN = '.warc.gz.open';
/** A closed WARC: whole and indexed. */
export const WARC_DONE = '.warc.gz';
/** The index lines of a WARC being written, in write order. */
export const CDXJ_OPEN = '.cdxj.open';
/** The sorted index of a closed WARC. */
export const CDXJ_DONE = '.cdxj';
const CDXJ_TEMP = '.cdxj.tmp';

/**
 * Finish a file as `close` does: its index lines (those of `.cdxj.open` unless given) sorted bytewise, as
 * `LC_ALL=C sort` would, into `.cdxj` by way of a temp file; `.cdxj.open` deleted; the WARC renamed last,
 * so a crash in between leaves a `.open` WARC that recovery finishes again.
 */
export async function finishFiles(dir: string, base: string, lines?: string[]): Promise<void> {
  const at = (extension: string): string => path.join(dir, base + extension);
  const unsorted = lines ?? completeLines(await readFile(at(CDXJ_OPEN), 'utf8').catch(ifMissing('')));
  const sorted = unsorted.map((line) => Buffer.from(line + '\n', 'utf8')).sort(Buffer.compare);
  const temp = await open(at(CDXJ_TEMP), 'w');
  try {
    await writeFullyAt(temp.fd, [Buffer.concat(sorted)], 0);
    await temp.sync();
  } finally {
    await temp.close();
  }
  await rename(at(CDXJ_TEMP), at(CDXJ_DONE));
  await rm(at(CDXJ_OPEN), { force: true });
  await rename(at(WARC_OPEN), at(WARC_DONE));
}

/** A finished WARC's files in the order they are handed on: the index first, the WARC last. */
export interface FinishedWarc {
  /** File name without extension. */
  base: string;
  /**
   * `<base>.cdxj` then `<base>.warc.gz`, absolute, those that are there: the WARC goes last (as
   * `finishFiles` renames it last), so a crash between the two leaves a finished WARC to hand on again.
   */
  files: string[];
}

/** The files of the WARC `finishFiles` just finished. */
export function finishedWarc(dir: string, base: string): FinishedWarc {
  return { base, files: [path.join(dir, base + CDXJ_DONE), path.join(dir, base + WARC_DONE)] };
}

/**
 * The finished WARCs lying in `dir`, by name: every `.cdxj` and `.warc.gz` (a WARC whose index is gone
 * too: the index went first). Call it after recovery, which finishes what was left `.open`.
 * @returns none when `dir` does not exist
 */
export async function finishedWarcs(dir: string): Promise<FinishedWarc[]> {
  const names = await readdir(dir).catch(ifMissing([] as string[]));
  const bases = new Set<string>();
  for (const name of names) {
    for (const extension of [CDXJ_DONE, WARC_DONE]) if (name.endsWith(extension)) bases.add(name.slice(0, -extension.length));
  }
  const present = new Set(names);
  return [...bases].sort().map((base) => ({ base, files: finishedWarc(dir, base).files.filter((file) => present.has(path.basename(file))) }));
}

/** The newline-terminated lines of a text; a last line without its newline was cut by a crash and is dropped. */
export function completeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop();
  return lines.filter((line) => line !== '');
}

/** Up to `length` bytes of `file` from `position`. */
export async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** A `.catch` handler that turns a missing file into `fallback` and rethrows anything else. */
export function ifMissing<T>(fallback: T): (error: NodeJS.ErrnoException) => T {
  return (error) => {
    if (error.code === 'ENOENT') return fallback;
    throw error;
  };
}

/** Our own errors pass through; the file system's become `FILESYSTEM` errors with the original as cause. */
export function asFilesystemError(error: unknown, message: string): DownloadError {
  if (DownloadError.isDownloadError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new DownloadError('FILESYSTEM', `${message}: ${detail}`, { cause: error });
}

/** `YYYYMMDDhhmmssSSS`, UTC. */
export function compactDate(date: Date): string {
  return date.toISOString().replace(/[-:.TZ]/g, '');
}

/** Refuse index fields that would break the line format (a key with a space splits differently). */
export function validateIndex(index: CdxjFields): void {
  const key = surt(index.url);
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) throw new DownloadError('BAD_INPUT', `CDXJ URL has a space or control character: ${JSON.stringify(index.url)}`);
  }
  if (index.status !== undefined && !Number.isInteger(index.status)) {
    throw new DownloadError('BAD_INPUT', `CDXJ status must be an integer, got ${index.status}`);
  }
}

/**
 * One CDXJ line, without its newline: `<surt> <yyyyMMddhhmmss> <json>`. As warcio's and pywb's indexers write
 * them, `status`, `length` and `offset` are strings; `mime` and `digest` are left out when empty.
 */
export function cdxjLine(index: CdxjFields, date: Date, where: WrittenRecord): string {
  const json: Record<string, string> = { url: index.url };
  if (index.mime !== '') json['mime'] = index.mime;
  if (index.status !== undefined) json['status'] = String(index.status);
  if (index.digest !== '') json['digest'] = index.digest;
  json['length'] = String(where.length);
  json['offset'] = String(where.offset);
  json['filename'] = where.filename;
  json['recordId'] = where.recordId;
  return `${surt(index.url)} ${compactDate(date).slice(0, 14)} ${JSON.stringify(json)}`;
}

/** One CDXJ line, read: its key, its timestamp, its JSON fields. */
export interface CdxjEntry {
  timestamp: string;
  fields: Record<string, unknown>;
  surt: string;
}

/** `<surt> <timestamp> <json>`, or `undefined` when the line is not one. */
export function parseCdxjLine(line: string): CdxjEntry | undefined {
  const first = line.indexOf(' ');
  const second = line.indexOf(' ', first + 1);
  if (first <= 0 || second < 0) return undefined;
  const timestamp = line.slice(first + 1, second);
  if (!/^\d{14,17}$/.test(timestamp)) return undefined;
  let fields: unknown;
  try {
    fields = JSON.parse(line.slice(second + 1));
  } catch {
    return undefined;
  }
  if (typeof fields !== 'object' || fields === null || typeof (fields as { url?: unknown }).url !== 'string') return undefined;
  return { surt: line.slice(0, first), timestamp, fields: fields as Record<string, unknown> };
}

/** A CDXJ timestamp (`20240102030405`, maybe with milliseconds) as RFC 3339 (`2024-01-02T03:04:05Z`). */
export function cdxjTimestampToIso(timestamp: string): string {
  const t = timestamp;
  const fraction = t.length > 14 ? `.${t.slice(14)}` : '';
  return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}${fraction}Z`;
}

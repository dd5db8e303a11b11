/**
 * WARC test support: records to write, and reading files back with warcio.js, an independent implementation,
 * so the tests check the files against someone else's reading of the format rather than the writer's own.
 */
import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CDXIndexer, WARCParser } from 'warcio';
import type { CdxjFields, WarcRecordSpec } from '../../src/archive/warc-record.js';
import { sha256 } from '../support/fixtures.js';

/** One record as warcio read it. */
export interface ReadRecord {
  /** The version line, `WARC/1.1`. */
  version: string;
  type: string;
  /** WARC headers by lower-case name. */
  headers: Map<string, string>;
  /** The whole block, raw (HTTP head included). */
  block: Buffer;
}

/** Every record of a WARC file, in order; fails on anything warcio cannot parse. */
export async function readWarc(file: string): Promise<ReadRecord[]> {
  return readRecords(createReadStream(file));
}

/** The records of WARC bytes already in memory. */
export async function readRecords(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<ReadRecord[]> {
  const records: ReadRecord[] = [];
  for await (const record of new WARCParser(source, { parseHttp: false })) {
    const block = Buffer.from(await record.readFully());
    const headers = new Map<string, string>();
    for (const [name, value] of record.warcHeaders.headers.entries()) headers.set(name.toLowerCase(), value);
    records.push({ version: record.warcHeaders.statusline, type: record.warcType ?? '', headers, block });
  }
  return records;
}

/** The byte range `offset`+`length` of a file, gunzipped on its own (a CDXJ line's member). */
export function gunzipRange(file: string, offset: number, length: number): Buffer {
  const bytes = readFileSync(file).subarray(offset, offset + length);
  if (bytes.length !== length) throw new Error(`Range ${offset}+${length} runs past the end of ${file}`);
  return gunzipSync(bytes);
}

/** A CDXJ line, split. */
export interface CdxjEntry {
  urlkey: string;
  timestamp: string;
  json: Record<string, string>;
}

/** The lines of a `.cdxj` file. */
export function readCdxj(file: string): { lines: string[]; entries: CdxjEntry[] } {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.pop() !== '') throw new Error(`${file} does not end with a newline`);
  const entries = lines.map((line) => {
    const [urlkey = '', timestamp = '', ...rest] = line.split(' ');
    return { urlkey, timestamp, json: JSON.parse(rest.join(' ')) as Record<string, string> };
  });
  return { lines, entries };
}

/** What warcio's own CDXJ indexer makes of a WARC file (one object per indexed record). */
export async function warcioIndex(file: string): Promise<Array<Record<string, unknown>>> {
  const indexer = new CDXIndexer({ format: 'cdxj' });
  const results: Array<Record<string, unknown>> = [];
  for await (const result of indexer.iterIndex([{ filename: path.basename(file), reader: createReadStream(file) }])) results.push(result);
  return results;
}

/** The entries of a folder, sorted. */
export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** A response record for `url` with an HTTP 200 head, and its index fields. */
export function response(url: string, body: Buffer, date: Date, status = 200, mime = 'image/jpeg'): [WarcRecordSpec, CdxjFields] {
  const digest = `sha256:${sha256(body)}`;
  const head = Buffer.from(`HTTP/1.1 ${status} OK\r\nContent-Type: ${mime}\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1');
  const spec: WarcRecordSpec = {
    type: 'response',
    targetUri: url,
    date,
    contentType: 'application/http; msgtype=response',
    headers: [['WARC-Payload-Digest', digest]],
    head,
    payload: body,
  };
  return [spec, { url, mime, status, digest }];
}

/**
 * One WARC 1.1 record, written as one gzip member at a given position of an open file.
 *
 * One member per record is what lets a CDXJ line's offset and length address a record that a reader can
 * fetch with one range request and gunzip on its own. The block is streamed: a file payload goes from
 * `fs.createReadStream` through the gzip stream to the WARC file, never whole in memory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, crc32, createGzip, gzipSync } from 'node:zlib';
import { DownloadError } from '../errors/download-error.js';
import type { FilePayload, WarcRecordSpec } from './warc-record.js';
import { writeFullyAt } from '../downloader/disk/write-fully.js';
import { readRange } from '../downloader/disk/read-range.js';

/** Options of {@link serializeWarcRecord}. */
export interface SerializeOptions {
  /**
   * zlib level, 0 (store) to 9. Media payloads are already compressed, so a low level costs little space
   * and saves much CPU; the WARC and HTTP heads still shrink.
   * @default zlib.constants.Z_DEFAULT_COMPRESSION (6)
   */
  gzipLevel?: number;
  /**
   * zlib level of a record whose payload is a file. Saved media is already compressed: level 0 stores it in
   * the gzip member at the speed of a copy, where deflating it again cost more than the download.
   * @default gzipLevel
   */
  filePayloadLevel?: number;
}

/** What ends every record: the CRLF after the block, then the empty line (WARC 1.1 §4). */
const RECORD_END = Buffer.from('\r\n\r\n', 'latin1');

/** Output chunk of the gzip stream: larger than zlib's 16 KiB default, so fewer `write` calls per record. */
const GZIP_CHUNK = 64 * 1024;

/** Read size of a file payload. */
const FILE_CHUNK = 1024 * 1024;

/** A header name: an RFC 9110 token, so no `:`, space or line break can end up in the name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `<urn:uuid:…>` and other bracketed URIs, as WARC 1.1 requires for `WARC-Record-ID`. */
const BRACKETED_URI = /^<[^\s<>]+>$/;

/**
 * Headers the serializer writes from the spec's own fields; a second copy in `headers` would contradict
 * them (two `Content-Length`s make the record unreadable), so one is refused.
 */
const MANAGED_HEADERS = new Set(['warc-type', 'warc-record-id', 'warc-date', 'warc-target-uri', 'content-type', 'content-length']);

/** A fresh `WARC-Record-ID`: `<urn:uuid:…>` from a random (version 4) UUID. */
export function newRecordId(): string {
  return `<urn:uuid:${randomUUID()}>`;
}

/**
 * Refuse a header value a reader would split or misread. A CR or LF would start a new header line (a
 * hostile URL or a server-chosen Content-Type could inject `WARC-Type: revisit`); other controls but tab
 * have no place in a field value either.
 * @throws DownloadError `BAD_INPUT`
 */
export function assertHeaderValue(name: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
      throw new DownloadError('BAD_INPUT', `WARC header ${name} has a control character (code ${code}) at ${i}; refused`);
    }
  }
}

/**
 * Refuse a header name that is not a token.
 * @throws DownloadError `BAD_INPUT`
 */
export function assertHeaderName(name: string): void {
  if (!TOKEN.test(name)) throw new DownloadError('BAD_INPUT', `Invalid WARC header name ${JSON.stringify(name)}`);
}

/**
 * Check a spec before any byte of it is written, so a bad record is refused without touching the file.
 * @throws DownloadError `BAD_INPUT` for an invalid date, record ID, header, or payload range
 */
export function validateRecordSpec(spec: WarcRecordSpec): void {
  if (!(spec.date instanceof Date) || Number.isNaN(spec.date.getTime())) {
    throw new DownloadError('BAD_INPUT', 'WARC record date is not a valid Date');
  }
  if (spec.recordId !== undefined) {
    assertHeaderValue('WARC-Record-ID', spec.recordId);
    if (!BRACKETED_URI.test(spec.recordId)) throw new DownloadError('BAD_INPUT', `WARC-Record-ID must be <uri>: ${spec.recordId}`);
  }
  if (spec.targetUri !== undefined) assertHeaderValue('WARC-Target-URI', spec.targetUri);
  if (spec.contentType !== undefined) assertHeaderValue('Content-Type', spec.contentType);
  for (const [name, value] of spec.headers ?? []) {
    assertHeaderName(name);
    assertHeaderValue(name, value);
    if (MANAGED_HEADERS.has(name.toLowerCase())) {
      throw new DownloadError('BAD_INPUT', `WARC header ${name} is written by the serializer; give it as a record field`);
    }
  }
  const payload = spec.payload;
  if (payload !== undefined && !Buffer.isBuffer(payload)) {
    const offset = payload.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(payload.length) || payload.length < 0) {
      throw new DownloadError('BAD_INPUT', `Invalid file payload range ${offset}+${payload.length} of ${payload.file}`);
    }
  }
}

/** Bytes of the block: head, then the payload. */
export function blockLength(spec: WarcRecordSpec): number {
  return (spec.head?.length ?? 0) + (spec.payload?.length ?? 0);
}

/**
 * The header block of a record, up to and including the empty line: `WARC/1.1`, `WARC-Type`,
 * `WARC-Record-ID`, `WARC-Date` (UTC, milliseconds), `WARC-Target-URI`, the extra headers in order,
 * `WARC-Block-Digest` (sha256, when the block is all in memory and the caller gave none), `Content-Type`,
 * `Content-Length`. Values are UTF-8, which WARC 1.1 allows.
 * @param spec the record, already validated by {@link validateRecordSpec}
 * @param recordId the record's ID, `<urn:uuid:…>`
 */
export function warcHeaderBlock(spec: WarcRecordSpec, recordId: string): Buffer {
  const lines = ['WARC/1.1', `WARC-Type: ${spec.type}`, `WARC-Record-ID: ${recordId}`, `WARC-Date: ${spec.date.toISOString()}`];
  if (spec.targetUri !== undefined) lines.push(`WARC-Target-URI: ${spec.targetUri}`);
  const headers = spec.headers ?? [];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  const inMemory = spec.payload === undefined || Buffer.isBuffer(spec.payload);
  const callerDigest = headers.some(([name]) => name.toLowerCase() === 'warc-block-digest');
  // A file payload is not hashed here: that would read it twice. The caller may give the digest it computed.
  if (inMemory && !callerDigest) {
    const hash = createHash('sha256');
    if (spec.head !== undefined) hash.update(spec.head);
    if (spec.payload !== undefined) hash.update(spec.payload as Buffer);
    lines.push(`WARC-Block-Digest: sha256:${hash.digest('hex')}`);
  }
  if (spec.contentType !== undefined) lines.push(`Content-Type: ${spec.contentType}`);
  lines.push(`Content-Length: ${blockLength(spec)}`, '', '');
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/**
 * An `application/warc-fields` body: one `name: value` line per field, CRLF-terminated (a warcinfo block).
 * @throws DownloadError `BAD_INPUT` for a name that is not a token or a value with a line break
 */
export function warcFields(fields: Readonly<Record<string, string>>): Buffer {
  let body = '';
  for (const [name, value] of Object.entries(fields)) {
    assertHeaderName(name);
    assertHeaderValue(name, value);
    body += `${name}: ${value}\r\n`;
  }
  return Buffer.from(body, 'utf8');
}

/**
 * Write one record as one gzip member at `position` of `file` and return the member's length.
 *
 * On failure the file may hold part of a member after `position`; the caller truncates it back (the writer
 * does). A file payload that turns out shorter than its stated length is a failure: the record would lie
 * about its Content-Length.
 * @param file an open file, written with positioned writes (so it must not be opened in append mode)
 * @param position where the member starts: the file's current end
 * @param spec the record; `recordId` is generated when absent
 * @returns the number of compressed bytes written
 * @throws DownloadError `BAD_INPUT` for an invalid spec (nothing written); file system errors as they come
 */
export async function serializeWarcRecord(file: FileHandle, position: number, spec: WarcRecordSpec, options: SerializeOptions = {}): Promise<number> {
  validateRecordSpec(spec);
  const header = warcHeaderBlock(spec, spec.recordId ?? newRecordId());
  if (blockLength(spec) <= SMALL_RECORD) {
    const member = await smallMember(spec, header, options);
    await writeFullyAt(file.fd, [member], position);
    return member.length;
  }
  const gzip = createGzip({ level: levelFor(spec, options), chunkSize: GZIP_CHUNK });
  let written = 0;
  await pipeline(blockChunks(spec, header), gzip, async (compressed: AsyncIterable<Buffer>) => {
    for await (const chunk of compressed) {
      await writeFullyAt(file.fd, [chunk], position + written);
      written += chunk.length;
    }
  });
  return written;
}

/**
 * Largest block compressed in one call: a record this small (most media of a blog, every request and
 * revisit) costs one read, one compression and one write instead of a stream's dozen round trips, which
 * made a WARC run of 64 KiB files three times slower.
 */
const SMALL_RECORD = 1024 * 1024;

/**
 * The gzip member of a record whose block is at most {@link SMALL_RECORD} bytes, built in memory (one read
 * of its file payload, one compression), or `undefined` for a larger record, which is streamed.
 * @param spec the record, validated, with its `recordId`
 */
export async function serializeSmallRecord(spec: WarcRecordSpec, options: SerializeOptions = {}): Promise<Buffer | undefined> {
  if (blockLength(spec) > SMALL_RECORD) return undefined;
  return smallMember(spec, warcHeaderBlock(spec, spec.recordId ?? newRecordId()), options);
}

async function smallMember(spec: WarcRecordSpec, header: Buffer, options: SerializeOptions): Promise<Buffer> {
  const payload = spec.payload === undefined ? undefined : Buffer.isBuffer(spec.payload) ? spec.payload : await readPayload(spec.payload);
  const parts = [header, ...(spec.head ? [spec.head] : []), ...(payload ? [payload] : []), RECORD_END];
  const level = levelFor(spec, options);
  return level === 0 ? storedMember(parts) : gzipSync(Buffer.concat(parts), { level });
}

/** Largest stored deflate block (RFC 1951 §3.2.4: its length is 16 bits). */
const STORED_BLOCK = 65_535;

/** A gzip header (RFC 1952): deflate, no flags, no time, unknown OS. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

/**
 * A gzip member whose deflate stream is stored blocks (level 0), written out directly: what zlib does at
 * level 0, without its stream machinery or a second copy of the payload. Media is stored this way.
 */
function storedMember(parts: Buffer[]): Buffer {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const blocks = Math.max(1, Math.ceil(total / STORED_BLOCK));
  const member = Buffer.allocUnsafe(GZIP_HEADER.length + blocks * 5 + total + 8);
  GZIP_HEADER.copy(member, 0);
  let at = GZIP_HEADER.length;
  let crc = 0;
  let part = 0;
  let inPart = 0;
  for (let block = 0, left = total; block < blocks; block++) {
    const size = Math.min(STORED_BLOCK, left);
    left -= size;
    member[at] = left === 0 ? 1 : 0; // BFINAL on the last block, BTYPE 00 (stored)
    member.writeUInt16LE(size, at + 1);
    member.writeUInt16LE(~size & 0xffff, at + 3);
    at += 5;
    for (let need = size; need > 0;) {
      const source = parts[part]!;
      const take = Math.min(need, source.length - inPart);
      source.copy(member, at, inPart, inPart + take);
      crc = crc32(source.subarray(inPart, inPart + take), crc);
      at += take;
      need -= take;
      inPart += take;
      if (inPart === source.length) {
        part++;
        inPart = 0;
      }
    }
  }
  member.writeUInt32LE(crc >>> 0, at);
  member.writeUInt32LE(total % 0x1_0000_0000, at + 4);
  return member;
}

/** A file's range read whole (small records only); fails when the file holds fewer bytes than stated. */
async function readPayload(payload: FilePayload): Promise<Buffer> {
  const start = payload.offset ?? 0;
  const buffer = await readRange(payload.file, start, payload.length);
  if (buffer.length !== payload.length)
    throw new DownloadError('FILESYSTEM', `WARC payload ${payload.file} gave ${buffer.length} bytes from ${start}, not the ${payload.length} stated`);
  return buffer;
}

/** The zlib level of a record: {@link SerializeOptions.filePayloadLevel} for a file payload. */
function levelFor(spec: WarcRecordSpec, options: SerializeOptions): number {
  const level = options.gzipLevel ?? zlibConstants.Z_DEFAULT_COMPRESSION;
  return spec.payload !== undefined && !Buffer.isBuffer(spec.payload) ? (options.filePayloadLevel ?? level) : level;
}

/** The uncompressed record, in order: header block, head, payload, record end. */
async function* blockChunks(spec: WarcRecordSpec, header: Buffer): AsyncGenerator<Buffer> {
  yield header;
  if (spec.head !== undefined && spec.head.length > 0) yield spec.head;
  const payload = spec.payload;
  if (Buffer.isBuffer(payload)) {
    if (payload.length > 0) yield payload;
  } else if (payload !== undefined && payload.length > 0) {
    yield* fileRange(payload);
  }
  yield RECORD_END;
}

/** A file's range, streamed; fails when the file holds fewer bytes than stated. */
async function* fileRange(payload: FilePayload): AsyncGenerator<Buffer> {
  const start = payload.offset ?? 0;
  let read = 0;
  const stream = createReadStream(payload.file, { start, end: start + payload.length - 1, highWaterMark: FILE_CHUNK });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    read += chunk.length;
    yield chunk;
  }
  if (read !== payload.length) {
    throw new DownloadError('FILESYSTEM', `WARC payload ${payload.file} gave ${read} bytes from ${start}, not the ${payload.length} stated`);
  }
}

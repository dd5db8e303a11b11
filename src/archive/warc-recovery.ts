/** Recovery of the WARC files a crashed run left open: whole records kept and indexed, the rest cut off. */
import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { createInflateRaw, crc32 } from 'node:zlib';
import type { CdxjFields } from './warc-record.js';
import { cdxjLine, CDXJ_OPEN, completeLines, parseCdxjLine, finishFiles, ifMissing, readAt, validateIndex, WARC_DONE, WARC_OPEN } from './warc-files.js';

/** A whole record found in a WARC file. */
interface Member {
  offset: number;
  length: number;
  head: RecordHead;
}

/** What recovery reads of a record: its WARC headers (names lower-cased) and the start of its block. */
interface RecordHead {
  headers: Map<string, string>;
  /** The first bytes of the block (up to {@link HEAD_LIMIT} minus the header block), for the HTTP head. */
  blockStart: Buffer;
}

/** An index line of `.cdxj.open` and the member it points at. */
interface IndexedLine {
  line: string;
  offset: number;
  length: number;
}

/** Inflated bytes kept of each record: enough for the WARC and HTTP heads. */
const HEAD_LIMIT = 1024 * 1024;
/** Compressed bytes read at a time. */
const READ_CHUNK = 1024 * 1024;
/** Most a gzip member header may take (ours are 10 bytes; FEXTRA, FNAME or FCOMMENT could add some). */
const GZIP_HEADER_LIMIT = 64 * 1024;

/** Recover one `.open` WARC (see {@link WarcWriter.recover}); its final name, or undefined when deleted. */
export async function recoverFile(dir: string, base: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  const at = (extension: string): string => path.join(dir, base + extension);
  const filename = base + WARC_DONE;
  const indexed = parseIndexLines(await readFile(at(CDXJ_OPEN), 'utf8').catch(ifMissing('')));
  let start = 0;
  let members: Member[];
  const file = await open(at(WARC_OPEN), 'r+');
  try {
    const size = (await file.stat()).size;
    // The last indexed record whose bytes the file holds: everything before it was written before it.
    const last = indexed
      .filter((entry) => entry.offset + entry.length <= size)
      .reduce<IndexedLine | undefined>((a, b) => (a === undefined || b.offset > a.offset ? b : a), undefined);
    start = last?.offset ?? 0;
    members = await walkMembers(file, start, size, signal);
    if (last !== undefined && members[0]?.length !== last.length) {
      start = 0;
      members = await walkMembers(file, 0, size, signal);
    }
    if (members.length === 0 && start === 0) {
      await file.close();
      await rm(at(WARC_OPEN), { force: true });
      await rm(at(CDXJ_OPEN), { force: true });
      return undefined;
    }
    const end = members.length === 0 ? start : members[members.length - 1]!.offset + members[members.length - 1]!.length;
    await file.truncate(end);
    await file.sync();
  } finally {
    await file.close().catch(() => undefined);
  }
  const byOffset = new Map(members.map((member) => [member.offset, member]));
  const kept = indexed.filter((entry) => entry.offset + entry.length <= start || byOffset.get(entry.offset)?.length === entry.length);
  const keptOffsets = new Set(kept.map((entry) => entry.offset));
  const added: string[] = [];
  for (const member of members) {
    if (keptOffsets.has(member.offset)) continue;
    const line = recoveredLine(member, filename);
    if (line !== undefined) added.push(line);
  }
  await finishFiles(dir, base, [...kept.map((entry) => entry.line), ...added]);
  return filename;
}

/** The complete, parseable lines of a `.cdxj.open`, with the member each points at. */
function parseIndexLines(text: string): IndexedLine[] {
  const entries: IndexedLine[] = [];
  for (const line of completeLines(text)) {
    // A line a crash garbled indexes nothing: the record, if whole, is indexed again from its headers.
    const fields = parseCdxjLine(line)?.fields;
    const offset = Number(fields?.offset);
    const length = Number(fields?.length);
    if (Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length > 0) entries.push({ line, offset, length });
  }
  return entries;
}

/** The whole members from `start` on, up to the first that is not (cut, corrupt, or not a whole record). */
async function walkMembers(file: FileHandle, start: number, size: number, signal: AbortSignal | undefined): Promise<Member[]> {
  const members: Member[] = [];
  let position = start;
  while (position < size) {
    signal?.throwIfAborted();
    const member = await readMember(file, position, size);
    if (member === undefined) break;
    members.push(member);
    position += member.length;
  }
  return members;
}

/**
 * The gzip member at `offset` when it is whole: header, a deflate stream that ends, a trailer whose CRC-32
 * and size match what it inflated to, and inside one WARC record exactly as long as its Content-Length says.
 */
async function readMember(file: FileHandle, offset: number, size: number): Promise<Member | undefined> {
  const headerBytes = await readAt(file, offset, Math.min(GZIP_HEADER_LIMIT, size - offset));
  const headerLength = gzipHeaderLength(headerBytes);
  if (headerLength === undefined) return undefined;
  const kept: Buffer[] = [];
  let keptLength = 0;
  let total = 0;
  let crc = 0;
  let tail = Buffer.alloc(0);
  const consumed = await inflateFrom(file, offset + headerLength, size, (chunk) => {
    crc = crc32(chunk, crc);
    total += chunk.length;
    if (keptLength < HEAD_LIMIT) {
      const part = chunk.subarray(0, HEAD_LIMIT - keptLength);
      kept.push(part);
      keptLength += part.length;
    }
    tail = Buffer.concat([tail, chunk.subarray(-4)]).subarray(-4);
  });
  if (consumed === undefined) return undefined;
  const trailerAt = offset + headerLength + consumed;
  if (trailerAt + 8 > size) return undefined;
  const trailer = await readAt(file, trailerAt, 8);
  if (trailer.readUInt32LE(0) !== crc >>> 0 || trailer.readUInt32LE(4) !== total % 2 ** 32) return undefined;
  const head = parseRecordHead(Buffer.concat(kept), total);
  if (head === undefined || !tail.equals(Buffer.from('\r\n\r\n', 'latin1'))) return undefined;
  return { offset, length: trailerAt + 8 - offset, head };
}

/** Length of the gzip member header at the start of `bytes` (RFC 1952 §2.3), or undefined when there is none. */
function gzipHeaderLength(bytes: Buffer): number | undefined {
  if (bytes.length < 10 || bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 8) return undefined;
  const flags = bytes[3]!;
  let position = 10;
  if (flags & 0x04) {
    if (bytes.length < position + 2) return undefined;
    position += 2 + bytes.readUInt16LE(position);
  }
  for (const flag of [0x08, 0x10]) {
    if (!(flags & flag)) continue;
    const zero = bytes.indexOf(0, position);
    if (zero < 0) return undefined;
    position = zero + 1;
  }
  if (flags & 0x02) position += 2;
  return position <= bytes.length ? position : undefined;
}

/**
 * Inflate the raw deflate stream at `start`, handing the output to `onData`.
 * @returns the compressed bytes the stream took (zlib's `bytesWritten`: it stops at the stream's end, so the
 *   next bytes are the trailer), or undefined when the stream is corrupt or the file ends first
 */
async function inflateFrom(file: FileHandle, start: number, size: number, onData: (chunk: Buffer) => void): Promise<number | undefined> {
  const inflate = createInflateRaw();
  inflate.on('data', onData);
  const outcome = new Promise<'end' | 'error'>((resolve) => {
    inflate.once('end', () => resolve('end'));
    inflate.once('error', () => resolve('error'));
  });
  const buffer = Buffer.allocUnsafe(READ_CHUNK);
  let fed = 0;
  try {
    while (start + fed < size) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(READ_CHUNK, size - start - fed), start + fed);
      if (bytesRead === 0) break;
      const written = new Promise<'written'>((resolve) => inflate.write(buffer.subarray(0, bytesRead), () => resolve('written')));
      // A corrupt stream errors without calling the write callback; the buffer is reused only after either.
      const first = await Promise.race([written, outcome]);
      if (first === 'error') return undefined;
      fed += bytesRead;
      // zlib took fewer bytes than it was given: the deflate stream ended inside this chunk.
      if (first === 'end' || inflate.bytesWritten < fed) break;
    }
    // Out of file with all of it taken: the stream must end here, or it was cut.
    if (inflate.bytesWritten === fed) inflate.end();
    return (await outcome) === 'end' ? inflate.bytesWritten : undefined;
  } finally {
    inflate.destroy();
  }
}

/** The WARC headers of an inflated record, when its total length is what its Content-Length implies. */
function parseRecordHead(start: Buffer, total: number): RecordHead | undefined {
  const end = start.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = start.subarray(0, end).toString('utf8').split('\r\n');
  if (!/^WARC\/1\.[01]$/.test(lines[0] ?? '')) return undefined;
  const headers = new Map<string, string>();
  let previous: string | undefined;
  for (const line of lines.slice(1)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && previous !== undefined) {
      headers.set(previous, `${headers.get(previous)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    previous = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(previous)) headers.set(previous, line.slice(colon + 1).trim());
  }
  const contentLength = Number(headers.get('content-length'));
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) return undefined;
  if (total !== end + 4 + contentLength + 4) return undefined;
  return { headers, blockStart: start.subarray(end + 4) };
}

/**
 * The index line of a recovered record, by the rules of warcio's `CDXIndexer`: response, resource and
 * revisit records with a target URI (not warc-fields resources); mime from the HTTP `Content-Type` of a
 * response, the WARC one of a resource, `warc/revisit` for a revisit; status from the HTTP status line.
 */
function recoveredLine(member: Member, filename: string): string | undefined {
  const { headers, blockStart } = member.head;
  const type = headers.get('warc-type');
  const url = headers.get('warc-target-uri');
  const date = new Date(headers.get('warc-date') ?? '');
  const recordId = headers.get('warc-record-id');
  if (type !== 'response' && type !== 'resource' && type !== 'revisit') return undefined;
  if (url === undefined || recordId === undefined || Number.isNaN(date.getTime())) return undefined;
  const contentType = headers.get('content-type') ?? '';
  if (type === 'resource' && contentType === 'application/warc-fields') return undefined;
  const http = type !== 'resource' && contentType.startsWith('application/http') ? parseHttpHead(blockStart) : undefined;
  const mime = type === 'revisit' ? 'warc/revisit' : mediaType(type === 'response' ? (http?.contentType ?? '') : contentType);
  const index: CdxjFields = { url, mime, digest: headers.get('warc-payload-digest') ?? '' };
  if (http?.status !== undefined) index.status = http.status;
  try {
    validateIndex(index);
  } catch {
    return undefined;
  }
  return cdxjLine(index, date, { recordId, filename, offset: member.offset, length: member.length });
}

/** Status and `Content-Type` of the HTTP response head at the start of a block. */
function parseHttpHead(block: Buffer): { status?: number; contentType?: string } {
  const end = block.indexOf('\r\n\r\n');
  const lines = block
    .subarray(0, end < 0 ? block.length : end)
    .toString('latin1')
    .split('\r\n');
  const match = /^HTTP\/\d(?:\.\d)? (\d{3})\b/.exec(lines[0] ?? '');
  const result: { status?: number; contentType?: string } = {};
  if (match !== null) result.status = Number(match[1]);
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'content-type') {
      result.contentType = line.slice(colon + 1).trim();
      break;
    }
  }
  return result;
}

/** `image/jpeg; charset=x` → `image/jpeg`. */
function mediaType(contentType: string): string {
  return contentType.split(';', 1)[0]!.trim();
}

import { SNIFF_LENGTH } from './media-formats.js';
import type { DetectedFormat } from '../model/media-type.js';

/** Whether a body is whole by its own structure: `unknown` where the format gives no cheap answer. */
export type Completeness = 'complete' | 'truncated' | 'unknown';

/**
 * Bytes of the end of a body kept for the end-marker checks (JPEG EOI, PNG IEND, GIF trailer, the
 * last Ogg page): more than the largest Ogg page (65,307 bytes), so the last page always starts in it.
 */
export const TAIL_BYTES = 64 * 1024;

const JPEG_EOI = Buffer.from([0xff, 0xd9]);
const JPEG_SOS = Buffer.from([0xff, 0xda]);
const PNG_IEND = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const ISO_FORMATS = new Set<DetectedFormat>(['mp4', 'mov', 'm4v', 'm4a', 'avif', 'heic']);
const OGG_CAPTURE = Buffer.from('OggS', 'latin1');
/** Ogg page header: capture pattern, version, header_type, granule, serial, sequence, CRC, page_segments. */
const OGG_HEADER_LENGTH = 27;
const OGG_END_OF_STREAM = 0x04;
const EBML_ID = 0x1a45dfa3;
const SEGMENT_ID = 0x18538067;
/** Void, the EBML padding element allowed at every level: the one element that may stand between the EBML header and the Segment. */
const VOID_ID = 0xec;
/** Real EBML headers are 30–60 bytes; a body claiming more is not a header but bytes that start like one. */
const MAX_EBML_HEADER = 4096;

/**
 * Watches a body go by, chunk by chunk, and keeps just enough to judge afterwards whether it is
 * complete: the first {@link SNIFF_LENGTH} bytes (to recognise the format), the last
 * {@link TAIL_BYTES} (end markers, the last Ogg page), a walk over the ISO-BMFF top-level boxes
 * (MP4, MOV, AVIF, HEIC), which must add up to the file's length, and a walk over the Matroska/WebM
 * header to the Segment's size. Costs a few comparisons per chunk, no copy of the body.
 */
export class StructureProbe {
  /** First bytes of the body. */
  head: Buffer = Buffer.alloc(0);
  /** Bytes seen so far. */
  bytes = 0;
  private tailChunks: Buffer[] = [];
  private tailLength = 0;
  /** Offset of the next top-level box header. */
  private nextBox = 0;
  /** Bytes of a box header split across chunks, and how many it needs (16 for a 64-bit size). */
  private boxHeader: Buffer = Buffer.alloc(0);
  private boxHeaderNeeded = 8;
  /** `walking`: boxes add up so far; `to-end`: a size-0 box runs to the end; `invalid`: not boxes. */
  private walk: 'walking' | 'to-end' | 'invalid' = 'walking';
  private readonly matroska = new MatroskaHeaderWalk();

  /** Feed the next chunk of the body. */
  update(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.head.length < SNIFF_LENGTH) this.head = Buffer.concat([this.head, chunk.subarray(0, SNIFF_LENGTH - this.head.length)]);
    if (this.walk === 'walking') this.walkBoxes(chunk, this.bytes);
    if (this.matroska.reading) this.matroska.update(chunk, this.bytes);
    this.bytes += chunk.length;
    this.tailChunks.push(chunk);
    this.tailLength += chunk.length;
    while (this.tailChunks.length > 1 && this.tailLength - this.tailChunks[0]!.length >= TAIL_BYTES) {
      this.tailLength -= this.tailChunks.shift()!.length;
    }
  }

  /** The last bytes of the body (at most {@link TAIL_BYTES}). */
  tail(): Buffer {
    const joined = this.tailChunks.length === 1 ? this.tailChunks[0]! : Buffer.concat(this.tailChunks);
    return joined.subarray(Math.max(0, joined.length - TAIL_BYTES));
  }

  /**
   * Judge the body seen, read as `format`. `complete` and `truncated` where the format says how long
   * it is or how it ends (JPEG, PNG, GIF, RIFF, BMP, ISO-BMFF boxes, the Matroska Segment's size, the
   * Ogg end-of-stream page); `unknown` for other formats, malformed structure and live (unknown-size)
   * Matroska segments.
   */
  verdict(format: DetectedFormat | undefined): Completeness {
    if (format === undefined || this.bytes === 0) return 'unknown';
    if (ISO_FORMATS.has(format)) return this.boxesVerdict();
    switch (format) {
      case 'jpeg': {
        // Entropy-coded data never holds FF D9 or FF DA, so a body cut inside a scan has no EOI after its
        // last SOS; an EOI from an embedded thumbnail comes before the main image's SOS. Data after the EOI
        // (a few KiB of vendor trailer) passes.
        // The last chunk nearly always settles it, without joining 64 KiB of chunks per file.
        const last = this.tailChunks.at(-1)!;
        if (endsAfterLastScan(last.subarray(Math.max(0, last.length - TAIL_BYTES)))) return 'complete';
        return endsAfterLastScan(this.tail()) ? 'complete' : 'truncated';
      }
      case 'png':
      case 'apng':
        return this.tail().includes(PNG_IEND) ? 'complete' : 'truncated';
      case 'gif': {
        const tail = this.tail();
        let end = tail.length - 1;
        while (end >= 0 && tail[end] === 0) end--; // some encoders pad after the trailer
        return tail[end] === 0x3b ? 'complete' : 'truncated';
      }
      case 'webp':
      case 'wav':
      case 'avi':
        // The RIFF header announces the size of everything after its first 8 bytes.
        return this.head.length >= 8 && this.bytes < this.head.readUInt32LE(4) + 8 ? 'truncated' : 'complete';
      case 'bmp':
        return this.head.length >= 6 && this.bytes < this.head.readUInt32LE(2) ? 'truncated' : 'complete';
      case 'webm':
      case 'mkv':
        return this.matroska.verdict(this.bytes);
      case 'ogg': {
        // As for JPEG: the last chunk nearly always holds the whole last page.
        const last = this.tailChunks.at(-1)!;
        let endOfStream = lastOggPageEndsStream(last.subarray(Math.max(0, last.length - TAIL_BYTES)));
        if (endOfStream === undefined) {
          const tail = this.tail();
          endOfStream = lastOggPageEndsStream(tail);
          // Pages, but none ending where the data does: cut inside a page (or its capture pattern).
          if (endOfStream === undefined) return tail.includes(OGG_CAPTURE) ? 'truncated' : 'unknown';
        }
        // Every logical stream ends on an EOS page, so the file's last page carries one (chained and
        // multiplexed files included); a file cut between pages ends on a page without it.
        return endOfStream ? 'complete' : 'truncated';
      }
      default:
        return 'unknown';
    }
  }

  private boxesVerdict(): Completeness {
    if (this.walk === 'to-end') return 'complete';
    if (this.walk === 'invalid' || this.boxHeader.length > 0) return 'unknown';
    if (this.bytes === this.nextBox) return 'complete';
    return this.bytes < this.nextBox ? 'truncated' : 'unknown';
  }

  /** Step over every top-level box header that falls inside `chunk`, which starts at `chunkStart`. */
  private walkBoxes(chunk: Buffer, chunkStart: number): void {
    for (;;) {
      const at = this.nextBox + this.boxHeader.length - chunkStart;
      if (at >= chunk.length) return;
      const take = Math.min(this.boxHeaderNeeded - this.boxHeader.length, chunk.length - at);
      this.boxHeader = Buffer.concat([this.boxHeader, chunk.subarray(at, at + take)]);
      if (this.boxHeader.length < this.boxHeaderNeeded) return;
      const size32 = this.boxHeader.readUInt32BE(0);
      if (size32 === 1 && this.boxHeaderNeeded === 8) {
        this.boxHeaderNeeded = 16; // a 64-bit size follows the type
        continue;
      }
      const size = size32 === 1 ? Number(this.boxHeader.readBigUInt64BE(8)) : size32;
      const headerLength = this.boxHeaderNeeded;
      this.boxHeader = Buffer.alloc(0);
      this.boxHeaderNeeded = 8;
      if (size32 === 0) {
        this.walk = 'to-end';
        return;
      }
      if (size < headerLength) {
        this.walk = 'invalid';
        return;
      }
      this.nextBox += size;
    }
  }
}

/**
 * The end-of-stream flag of the Ogg page that ends exactly where `bytes` do; `undefined` when no page
 * does. Pages are tried from the last capture pattern back, so an `OggS` that happens to sit in a
 * packet is passed over: its made-up page length does not land on the end.
 */
function lastOggPageEndsStream(bytes: Buffer): boolean | undefined {
  for (let at = bytes.lastIndexOf(OGG_CAPTURE); at >= 0; at = at === 0 ? -1 : bytes.lastIndexOf(OGG_CAPTURE, at - 1)) {
    if (at + OGG_HEADER_LENGTH > bytes.length || bytes[at + 4] !== 0) continue;
    const segments = bytes[at + 26]!;
    const bodyAt = at + OGG_HEADER_LENGTH + segments;
    if (bodyAt > bytes.length) continue;
    let end = bodyAt;
    for (let i = at + OGG_HEADER_LENGTH; i < bodyAt; i++) end += bytes[i]!;
    if (end === bytes.length) return (bytes[at + 5]! & OGG_END_OF_STREAM) !== 0;
  }
  return undefined;
}

/**
 * Reads a Matroska/WebM file's first top-level elements as chunks go by: the EBML header (skipped
 * by its size), then the Segment, whose size says where the file's content ends. Each element
 * header is read byte by byte into numbers, so a header split across chunks costs no copy and no
 * allocation; bodies are stepped over by their sizes. Sizes and IDs are EBML variable-length
 * integers (RFC 8794 §4): the count of leading zero bits in the first byte gives the length.
 */
class MatroskaHeaderWalk {
  /** Reading an element's ID or its size; `segment` once the Segment's end is known, `live` for an unknown-size Segment. */
  private state: 'id' | 'size' | 'segment' | 'live' | 'invalid' = 'id';
  /** Offset of the next byte to read: inside an element header, or past a skipped body. */
  private next = 0;
  /** The integer being read (an ID keeps its length marker, as IDs are written), its length and the bytes read of it. */
  private value = 0;
  private length = 0;
  private read = 0;
  /** Whether every data bit of the size read so far is 1: the "unknown size" of a live stream (RFC 8794 §6.2). */
  private allOnes = false;
  private id = 0;
  private headerSeen = false;
  /** Offset just past the Segment. */
  private segmentEnd = 0;

  /** Whether the walk still needs bytes (false once the Segment is found, or the bytes are not Matroska). */
  get reading(): boolean {
    return this.state === 'id' || this.state === 'size';
  }

  /** Read the element headers that fall inside `chunk`, which starts at `chunkStart`. */
  update(chunk: Buffer, chunkStart: number): void {
    let at = this.next - chunkStart;
    while (at < chunk.length && this.reading) {
      const byte = chunk[at++]!;
      if (this.read === 0) {
        this.length = byte === 0 ? 9 : Math.clz32(byte) - 23;
        // Matroska IDs are at most 4 bytes (EBMLMaxIDLength), sizes at most 8.
        if (this.length > (this.state === 'id' ? 4 : 8)) {
          this.state = 'invalid';
          return;
        }
        const dataBits = 0xff >> this.length;
        this.value = this.state === 'id' ? byte : byte & dataBits;
        this.allOnes = (byte & dataBits) === dataBits;
      } else {
        this.value = this.value * 256 + byte;
        this.allOnes &&= byte === 0xff;
      }
      if (++this.read < this.length) continue;
      this.read = 0;
      if (this.state === 'id') {
        this.id = this.value;
        this.state = 'size';
      } else {
        at = this.element(chunkStart + at) - chunkStart;
      }
    }
    this.next = chunkStart + at;
  }

  /** Act on an element whose header is read and whose data starts at `dataStart`; returns where to read next. */
  private element(dataStart: number): number {
    const size = this.value;
    this.state = 'id';
    if (!this.headerSeen) {
      // Only elements whose schema allows it (Segment, Cluster) may have an unknown size; the EBML header may not.
      if (this.id !== EBML_ID || this.allOnes || size > MAX_EBML_HEADER) this.state = 'invalid';
      this.headerSeen = true;
      return dataStart + size;
    }
    if (this.id === SEGMENT_ID) {
      this.state = this.allOnes ? 'live' : 'segment';
      this.segmentEnd = dataStart + size;
    } else if (this.id !== VOID_ID || this.allOnes) {
      this.state = 'invalid';
    }
    return dataStart + size;
  }

  /** `bytes` seen in all: whole once they reach the Segment's end; data after it (padding, a second segment) passes. */
  verdict(bytes: number): Completeness {
    switch (this.state) {
      case 'segment':
        return bytes >= this.segmentEnd ? 'complete' : 'truncated';
      case 'id':
      case 'size':
        return 'truncated'; // ended before the Segment's size was read
      default:
        return 'unknown';
    }
  }
}

/** Whether these bytes hold a JPEG EOI after their last SOS (an EOI split across chunks is found in the joined tail). */
function endsAfterLastScan(bytes: Buffer): boolean {
  const eoi = bytes.lastIndexOf(JPEG_EOI);
  return eoi >= 0 && eoi > bytes.lastIndexOf(JPEG_SOS);
}

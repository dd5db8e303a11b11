import { SNIFF_LENGTH } from './media-formats.js';
import type { DetectedFormat } from '../model/media-type.js';

/** Whether a body is whole by its own structure: `unknown` where the format gives no cheap answer. */
export type Completeness = 'complete' | 'truncated' | 'unknown';

/** Bytes of the end of a body kept for the end-marker checks (JPEG EOI, PNG IEND, GIF trailer). */
export const TAIL_BYTES = 64 * 1024;

const JPEG_EOI = Buffer.from([0xff, 0xd9]);
const JPEG_SOS = Buffer.from([0xff, 0xda]);
const PNG_IEND = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const ISO_FORMATS = new Set<DetectedFormat>(['mp4', 'mov', 'm4v', 'm4a', 'avif', 'heic']);

/**
 * Watches a body go by, chunk by chunk, and keeps just enough to judge afterwards whether it is
 * complete: the first {@link SNIFF_LENGTH} bytes (to recognise the format), the last
 * {@link TAIL_BYTES} (end markers), and a walk over the ISO-BMFF top-level boxes (MP4, MOV,
 * AVIF, HEIC), which must add up to the file's length. Costs a few comparisons per chunk, no copy
 * of the body.
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

  /** Feed the next chunk of the body. */
  update(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.head.length < SNIFF_LENGTH) this.head = Buffer.concat([this.head, chunk.subarray(0, SNIFF_LENGTH - this.head.length)]);
    if (this.walk === 'walking') this.walkBoxes(chunk, this.bytes);
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

  /** Judge the body seen, read as `format`. */
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

/** Whether these bytes hold a JPEG EOI after their last SOS (an EOI split across chunks is found in the joined tail). */
function endsAfterLastScan(bytes: Buffer): boolean {
  const eoi = bytes.lastIndexOf(JPEG_EOI);
  return eoi >= 0 && eoi > bytes.lastIndexOf(JPEG_SOS);
}

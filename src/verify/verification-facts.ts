import { detectFormat } from './media-formats.js';
import type { DetectedFormat, MediaType } from '../model/media-type.js';
import type { Completeness, StructureProbe } from './structure-probe.js';

/** What is known once response headers arrive, before any body byte is stored. */
export interface ResponseFacts {
  /** URL that was requested. */
  url: string;
  /** What the host asked for: a hint, not a gate (an "image" that is an MP4 is kept as video). */
  mediaType: MediaType;
  /** The Content-Type header, if any. */
  contentType: string | undefined;
  /** Size of the whole resource promised by the server (Content-Length or Content-Range total). */
  declaredSize: number | undefined;
  /** Whether an unrecognised body must at least carry a Content-Type of the requested family. @default true */
  verifyContentType: boolean;
}

/** What is known once the first bytes of the body arrive, before the rest is stored. */
export interface HeadFacts {
  /** URL that was requested. */
  url: string;
  /** What the host asked for. */
  mediaType: MediaType;
  /** The Content-Type header, if any. */
  contentType: string | undefined;
  /** The first bytes of the file. */
  head: Uint8Array;
}

/** What is known once the last byte is on disk. */
export interface ContentFacts extends ResponseFacts {
  /** Extension of the file name the bytes will be stored under (no dot; empty when the name has none). */
  extension: string;
  /** Bytes stored. */
  byteSize: number;
  /** SHA-256 (hex) of the stored bytes. */
  sha256: string;
  /** The first bytes of the file. */
  head: Uint8Array;
  /** The media format the first bytes show, if any. */
  detectedFormat: DetectedFormat | undefined;
  /** Whether the body is whole by its own structure (JPEG EOI, PNG IEND, GIF trailer, RIFF size, MP4 boxes). */
  completeness: Completeness;
  /** SHA-256 of an earlier attempt's body that failed the structure check: the same bytes twice are the origin's. */
  previousTruncatedSha256: string | undefined;
  /** SHA-256 (hex) the caller expects, if it knows one. */
  expectedChecksum: string | undefined;
  /** Whether {@link byteSize} must equal {@link declaredSize}. @default true */
  verifySize: boolean;
  /** True when the bytes were joined from an earlier partial transfer and a fresh one. */
  resumed: boolean;
}

/** What the bytes themselves show, the part of {@link ContentFacts} a download and a file found on disk share. */
export type BytesFacts = Pick<ContentFacts, 'byteSize' | 'sha256' | 'head' | 'detectedFormat' | 'completeness'>;

/** Read {@link BytesFacts} off a structure probe that saw the whole body, its SHA-256 and size. */
export function bytesFacts(probe: StructureProbe, sha256: string, byteSize: number): BytesFacts {
  const detectedFormat = detectFormat(probe.head);
  return { byteSize, sha256, head: probe.head, detectedFormat, completeness: probe.verdict(detectedFormat) };
}

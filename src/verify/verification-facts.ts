import type { MediaType } from './media-type.js';

/** What is known once response headers arrive, before any body byte is stored. */
export interface ResponseFacts {
  /** URL that was requested. */
  url: string;
  /** What the host asked for. */
  mediaType: MediaType;
  /** The Content-Type header, if any. */
  contentType: string | undefined;
  /** Size of the whole resource promised by the server (Content-Length or Content-Range total). */
  declaredSize: number | undefined;
  /** Whether the Content-Type family must match {@link mediaType}. @default true */
  verifyContentType: boolean;
}

/** What is known once the last byte is on disk. */
export interface ContentFacts extends ResponseFacts {
  /** Extension of the file name the bytes will be stored under (no dot). */
  extension: string;
  /** Bytes stored. */
  byteSize: number;
  /** SHA-256 (hex) of the stored bytes. */
  sha256: string;
  /** The first bytes of the file, for magic-byte checks. */
  head: Uint8Array;
  /** SHA-256 (hex) the caller expects, if it knows one. */
  expectedChecksum: string | undefined;
  /** Whether {@link byteSize} must equal {@link declaredSize}. @default true */
  verifySize: boolean;
  /** True when the bytes were joined from an earlier partial transfer and a fresh one. */
  resumed: boolean;
}

import type { DownloadErrorCode } from '../errors/download-error.js';
import type { DetectedFormat, DetectedMediaType } from './media-type.js';

/** Where the bytes came from. */
export type DownloadSource = 'tumblr' | 'internet_archive' | 'origin';

/**
 * Outcome class: `missing` means the origin says the media is gone; `unsupported` that it was never
 * requested, being hosted where this tool does not fetch from (a YouTube or Spotify embed of a post).
 */
export type DownloadStatus = 'success' | 'missing' | 'unsupported' | 'error';

/** What a download call returns. Per-item failures are results, not exceptions. */
export interface DownloadResult {
  /** Absolute path of the file (for failures: the path it would have had). */
  filename: string;
  /** Bytes in the file (0 unless successful). */
  byteSize: number;
  /** SHA-256 (hex) of the file; empty unless successful. */
  checksum: string;
  /** Wall time from the call to the result, ms. */
  duration: number;
  /** Where the bytes came from. */
  source: DownloadSource;
  /** Outcome class. */
  status: DownloadStatus;
  /** Human-readable reason when `status` is not `success`. */
  errorMessage?: string;
  /** Stable code of the failure when `status` is not `success`. */
  errorCode?: DownloadErrorCode;
  /** True when a Tumblr host answered 404/403/410 for the media. */
  mediaMissingOnTumblr: boolean;
  /** URL that was asked for. */
  url: string;
  /** Attempts made (0 when the input was refused before any request). */
  attempts: number;
  /** Bytes reused from an earlier partial transfer (0 when none). */
  resumedFromByte: number;
  /** Content-Type the server sent, if any. */
  contentType?: string;
  /** Post id the call named, if any. */
  postId?: string;
  /** True when no request was made: the ledger recorded the URL as saved, or (`onExisting: 'skip'`) the file was already there. */
  skipped?: boolean;
  /** The earlier file with the same SHA-256 that this one links to, copies, or (dedupe `'reference'`) stands for. */
  deduplicatedFrom?: string;
  /** Wayback capture timestamp (`YYYYMMDDhhmmss`) when `source` is `internet_archive`. */
  captureTimestamp?: string;
  /**
   * With a bucket store: the object that holds the bytes, `s3://bucket/key` (`filename` is then its path
   * under the local state folder, the name the ledger keeps).
   */
  objectUrl?: string;
  /** The media format the bytes are (by their signature, whatever the URL or Content-Type said). */
  detectedFormat?: DetectedFormat;
  /** What the bytes are: an "image" that is an MP4 is reported as `video`. */
  detectedMediaType?: DetectedMediaType;
  /** `false` when the bytes match no known format and were kept on their Content-Type alone. */
  formatVerified?: boolean;
  /** What is odd about kept bytes: `truncated-at-origin`, `format-unverified`, `extension-mismatch`. */
  warnings?: string[];
  /** True when the file on disk was damaged (or missing, or not a regular file) and this download replaced it. */
  repaired?: boolean;
  /** Caller's metadata, passed through untouched. */
  metadata?: Record<string, unknown>;
  /** The priority the call gave, if it gave one. */
  priority?: number;
  /** With `fallbackUrls`: the URL whose bytes were saved (credentials as `***`)… */
  servedUrl?: string;
  /** …and which of the candidates it was: 0 the first URL, 1 the first fallback, and so on. */
  candidateIndex?: number;
}

import type { ProgressCallback } from '../model/download-request.js';
import type { MediaType } from '../model/media-type.js';

export type { ProgressCallback } from '../model/download-request.js';

/** Options every download call takes. */
export interface CommonDownloadOptions {
  /** Passed through to the result untouched (and to the FilenameGenerator in its context). */
  metadata?: Record<string, unknown>;
  /** Progress for this call only (events carry progress for all calls). */
  progressCallback?: ProgressCallback;
  /** SHA-256 (hex) the file must have. */
  expectedChecksum?: string;
  /**
   * Order among downloads waiting for a slot: higher first, then in call order. Any whole number
   * (negative ones wait behind the default). @default 0
   */
  priority?: number;
  /**
   * Other URLs of the same media, best first (Tumblr's `s2048x3072` → `s1280x1920` → `_1280`, or a mirror):
   * each is tried in order when the one before is missing (404/403/410) or its bytes fail verification. The
   * item stays the first URL's: its name, its ledger entry, its result's `url`.
   */
  fallbackUrls?: readonly string[];
}

/** Options of `downloadFile` and `downloadWithResume`. */
export interface DownloadFileOptions extends CommonDownloadOptions {
  /** Bytes received must equal the size the server announced. @default true */
  verifySize?: boolean;
  /**
   * Bytes of no known media format are kept only when their Content-Type names the requested family (`false`: kept
   * whatever it says). Known media is kept, and HTML, JSON and text refused, either way. @default true
   */
  verifyContentType?: boolean;
  /** What is downloaded. @default inferred from the file extension */
  mediaType?: MediaType;
  /** Post the file belongs to, carried in events and the result. */
  postId?: string;
  /** Continue a `.part` left by an earlier attempt or run. @default config.resume */
  resume?: boolean;
}

/** Options of `downloadImage`, `downloadVideo`, `downloadGif` and `downloadAudio`. */
export interface DownloadMediaOptions extends CommonDownloadOptions {
  /** Position of the media within its post; part of the file name. @default 0 */
  index?: number;
}

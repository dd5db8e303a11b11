/** Brand that marks every error of this plugin, even across two copies of the package. */
const DOWNLOAD_ERROR_BRAND = Symbol.for('tumblr-media-downloader/DownloadError');

/**
 * Stable, machine-readable error codes. Hosts branch on these, never on messages.
 */
export type DownloadErrorCode =
  | 'INVALID_URL'
  | 'UNSAFE_PATH'
  | 'INVALID_CONFIG'
  | 'MEDIA_NOT_FOUND'
  | 'HTTP_ERROR'
  | 'RATE_LIMITED'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'STALLED'
  | 'RANGE_MISMATCH'
  | 'FILE_TOO_LARGE'
  | 'INTEGRITY'
  | 'FILESYSTEM'
  | 'ABORTED'
  | 'CLOSED'
  | 'LEDGER'
  | 'LOCKED'
  // The object store (an S3 bucket) refused or failed a request: the verified bytes stay staged for the next run.
  | 'STORE'
  | 'BAD_INPUT'
  // A medium of a post hosted by a provider this tool does not fetch from (YouTube, Vimeo, Spotify…): never requested.
  | 'UNSUPPORTED_PROVIDER'
  // A queued job BullMQ gave up on: its worker threw `attempts` times, or died more than `maxStalledCount` times.
  | 'JOB_FAILED';

/** Options shared by every {@link DownloadError} constructor. */
export interface DownloadErrorOptions {
  /** The URL being downloaded when the error happened, if any. */
  url?: string;
  /** The original error (socket error, fs error, …). */
  cause?: unknown;
  /** Whether repeating the same request may succeed. */
  retryable?: boolean;
}

/**
 * Base class of every error the plugin produces. Carries a stable {@link code},
 * the {@link url} and the original error as `cause`.
 */
export class DownloadError extends Error {
  /** Stable machine-readable code. */
  readonly code: DownloadErrorCode;
  /** URL of the download this error belongs to. */
  readonly url: string | undefined;
  /** Whether a retry may succeed; the retry strategy reads this. */
  readonly retryable: boolean;

  constructor(code: DownloadErrorCode, message: string, options: DownloadErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.url = options.url;
    this.retryable = options.retryable ?? false;
    // The brand is non-enumerable so logging an error does not print it.
    Object.defineProperty(this, DOWNLOAD_ERROR_BRAND, { value: true, enumerable: false });
  }

  /** True for any error made by this plugin, including by another copy of it. */
  static isDownloadError(value: unknown): value is DownloadError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DOWNLOAD_ERROR_BRAND] === true;
  }
}

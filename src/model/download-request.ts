import type { DetectedFormat, MediaType } from './media-type.js';

/** Called with (bytes on disk, total bytes when known), at most every `progressIntervalMs` and once at the end. */
export type ProgressCallback = (bytes: number, total: number | undefined) => void;

/**
 * One download as the caller asked for it, before its URL is judged: enough to report a refusal.
 * Frozen at the call; no stage changes it.
 */
export interface DownloadCall {
  /** Id of the download, unique within the process. */
  readonly id: string;
  /** The URL with any credentials replaced by `***`: what results, events and the ledger show. */
  readonly url: string;
  /** The URL as given, credentials included: only ever sent to the server. */
  readonly requestUrl: string;
  readonly postId: string | undefined;
  readonly mediaType: MediaType;
  readonly metadata: Record<string, unknown> | undefined;
  /** Position of the media within its post, for media calls. */
  readonly index: number | undefined;
  /** Bytes received must equal the size the server announced. */
  readonly verifySize: boolean;
  /** Bytes of no known format are kept only when their Content-Type names the requested family. */
  readonly verifyContentType: boolean;
  /** SHA-256 (hex) the file must have. */
  readonly expectedChecksum: string | undefined;
  /** Continue a `.part` left by an earlier attempt or run. */
  readonly resume: boolean;
  readonly progressCallback: ProgressCallback | undefined;
  /** Order among waiting downloads, higher first; `undefined` when the caller gave none (0). */
  readonly priority: number | undefined;
  /** Other URLs of the same media, best first, as given (credentials included): tried when the one before is missing or refused. */
  readonly fallbackUrls: readonly string[];
  /** Clock time of the call, for the result's duration. */
  readonly startedAt: number;
}

/** One URL a download may take its bytes from, parsed once when the call is accepted. */
export interface Candidate {
  /** Its place among the call's URLs: 0 the call's own, 1 the first fallback, and so on. */
  readonly index: number;
  /** The URL as given, credentials included. */
  readonly requestUrl: string;
  /** Its lower-case host: the key of rate limits and cooldowns, and what says whether it is on Tumblr. */
  readonly host: string;
}

/** A call whose URL and name were accepted: what every stage of the pipeline reads. */
export interface DownloadRequest extends DownloadCall {
  /** Lower-case host name of `requestUrl` (that of `candidates[0]`). */
  readonly host: string;
  /** The call's URL, then each of its `fallbackUrls`, best first. */
  readonly candidates: readonly Candidate[];
  /** Absolute path the file is meant to get (inside `outputDir`); a media call's name may follow the bytes' format. */
  readonly intendedPath: string;
  /**
   * For media calls, the name once the bytes' format (else their Content-Type) is known; absent for
   * `downloadFile`, whose caller chose the name.
   */
  readonly nameFor: ((format: DetectedFormat | undefined, contentType: string | undefined) => string) | undefined;
}

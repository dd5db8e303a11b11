import type { DownloadError } from '../errors/download-error.js';
import type { DownloadResult } from '../model/download-result.js';
import type { MediaType } from '../model/media-type.js';

/** Facts every event carries, so a listener can tell downloads apart. */
export interface DownloadEventBase {
  /** Id of the download, unique within the process. */
  id: string;
  /** URL being downloaded. */
  url: string;
  /** Post the media belongs to, when the call named one. */
  postId?: string;
  /** What is being downloaded. */
  mediaType: MediaType;
  /** Attempt number, from 1; 0 before the first attempt starts. */
  attempt: number;
}

/** Accepted and waiting for a concurrency slot. */
export interface QueuedEvent extends DownloadEventBase {
  /** Path the file is meant to get (a collision suffix may still be added). */
  filename: string;
  /** The priority the call gave, if it gave one: higher is served first. */
  priority?: number;
}

/** A slot was granted; requests begin. */
export type StartedEvent = DownloadEventBase;

/** Bytes arrived (throttled to `progressIntervalMs`). */
export interface ProgressEvent extends DownloadEventBase {
  /** Bytes of the file on disk so far, resumed prefix included. */
  bytes: number;
  /** Size of the whole file, when the server said. */
  total: number | undefined;
}

/** An attempt failed and another will follow after `delayMs`. Sent before the wait. */
export interface RetryingEvent extends DownloadEventBase {
  /** Wait before the next attempt, ms. */
  delayMs: number;
  /** Why the attempt failed. */
  reason: string;
  /** Code of the failure, when it is one of ours. */
  code?: string;
}

/**
 * The host asked us to slow down (a 429 or 503 with Retry-After); every request to it waits until
 * `untilMs`. Each download that hits the pause sends one, so several may describe the same pause.
 */
export interface RateLimitedEvent extends DownloadEventBase {
  /** Host put in cooldown. */
  host: string;
  /** Epoch ms (on the downloader's clock) before which no request goes to the host. */
  untilMs: number;
  /** The status that asked for the pause: 429 (Too Many Requests) or 503 (Service Unavailable). */
  statusCode: 429 | 503;
  /** How long the server's Retry-After asked to wait, ms (an HTTP date is turned into the time left until it). */
  retryAfterMs: number;
  /** How long the host is paused, ms: `retryAfterMs`, or `retry.maxRetryAfter` when that is shorter. */
  pauseMs: number;
  /**
   * True when the server asked for longer than `retry.maxRetryAfter`: the host pauses for that cap
   * (`pauseMs`) only, and this download gives up instead of waiting (it fails with the 429/503).
   */
  capped: boolean;
}

/** A Range request was honoured; the transfer continues from `fromByte`. */
export interface ResumedEvent extends DownloadEventBase {
  /** Bytes already on disk and kept. */
  fromByte: number;
}

/** All checks passed and the transfer is over; the bytes are made durable and named next. */
export interface VerifiedEvent extends DownloadEventBase {
  /** SHA-256 (hex) of the file. */
  sha256: string;
}

/** Terminal: the file is in place. */
export interface CompletedEvent extends DownloadEventBase {
  result: DownloadResult;
  /** True when the file on disk was damaged, missing or not a regular file, and these verified bytes replaced it. */
  repaired: boolean;
}

/** Terminal: nothing was requested, because the work was already done. */
export interface SkippedEvent extends DownloadEventBase {
  result: DownloadResult;
  /**
   * `ledger`: recorded as saved and its file is intact; `existing-file`: `onExisting: 'skip'` found a
   * file the ledger did not know under the final name, and it passed the Verifier's checks.
   */
  reason: 'ledger' | 'existing-file';
  /**
   * How the file earned the skip: `size-and-time` (a regular file with the recorded size and
   * modification time), `sha256` (its time had changed, so it was read and its hash matched), or
   * `verifier` (an unknown file that passed the same checks as a download).
   */
  verifiedBy: 'size-and-time' | 'sha256' | 'verifier';
}

/** Terminal: the origin says the media is gone (404/403/410). */
export interface MissingEvent extends DownloadEventBase {
  result: DownloadResult;
}

/** Terminal: the download failed; nothing is left under the final name. */
export interface FailedEvent extends DownloadEventBase {
  result: DownloadResult;
  error: DownloadError;
}

/**
 * Every lifecycle event, by name. Each takes one payload object.
 * (A type alias, not an interface: typed-emitter needs the implicit index signature.)
 */
export type DownloadEventMap = {
  queued: (event: QueuedEvent) => void;
  started: (event: StartedEvent) => void;
  progress: (event: ProgressEvent) => void;
  retrying: (event: RetryingEvent) => void;
  'rate-limited': (event: RateLimitedEvent) => void;
  resumed: (event: ResumedEvent) => void;
  verified: (event: VerifiedEvent) => void;
  completed: (event: CompletedEvent) => void;
  skipped: (event: SkippedEvent) => void;
  missing: (event: MissingEvent) => void;
  failed: (event: FailedEvent) => void;
};

/** Names of all events. */
export type DownloadEventName = keyof DownloadEventMap;

/** Payload type of an event. */
export type DownloadEventPayload<E extends DownloadEventName> = Parameters<DownloadEventMap[E]>[0];

/** Every event name, in lifecycle order. The type below fails to compile if one is missing. */
export const DOWNLOAD_EVENT_NAMES = [
  'queued',
  'started',
  'progress',
  'retrying',
  'rate-limited',
  'resumed',
  'verified',
  'completed',
  'skipped',
  'missing',
  'failed',
] as const satisfies readonly DownloadEventName[];

/** Compile-time proof that {@link DOWNLOAD_EVENT_NAMES} lists every key of the map. */
export type AllEventsListed = DownloadEventName extends (typeof DOWNLOAD_EVENT_NAMES)[number] ? true : never;
const allEventsListed: AllEventsListed = true;
void allEventsListed;

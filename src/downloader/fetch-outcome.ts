import type { Candidate } from '../model/download-request.js';
import type { DetectedFormat } from '../model/media-type.js';
import type { TransferOutcome } from './transfer/transfer.js';

/**
 * A transfer whose bytes passed verification: what they are, and what is odd about them. The
 * structure probe is dropped once it has spoken: it holds the body's last chunks.
 */
export interface VerifiedOutcome extends Omit<TransferOutcome, 'probe'> {
  detectedFormat: DetectedFormat | undefined;
  warnings: string[];
  /** For media calls, the name the bytes' format gives (computed once, for verification and placement). */
  nameByContent: string | undefined;
}

/** What the attempts at one download came to, success or not: a value, never an exception. */
export type Fetched = FetchSucceeded | FetchFailed;

/** Verified bytes in a complete `.part`. */
export interface FetchSucceeded {
  ok: true;
  outcome: VerifiedOutcome;
  /** Attempts made, across the origin and any fallback. */
  attempts: number;
  /** First byte of the file that an earlier attempt or run had kept (0 when none). */
  resumedFrom: number;
  /** The Wayback capture the bytes come from, when a fallback served them. */
  captureTimestamp?: string;
  /** Which of the call's URLs served the bytes (directly, or through its Wayback capture); set by the fallbacks. */
  candidate?: Candidate;
}

/** Every attempt failed. */
export interface FetchFailed {
  ok: false;
  /** Why the last attempt failed (what a fallback found out may be added to its message). */
  error: unknown;
  attempts: number;
  resumedFrom: number;
  /** Content-Type of the last response whose body arrived, if any. */
  contentType?: string;
  /**
   * Whether a resumable `.part` stays on disk for the next attempt or run (an interrupted transfer that can be
   * continued), as the last transfer decided; `undefined` when no transfer ran (aborted while waiting for the rate
   * limiter): whatever an earlier run left is still there.
   */
  partKept: boolean | undefined;
}

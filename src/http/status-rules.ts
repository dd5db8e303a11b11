import type { IncomingHttpHeaders } from 'node:http';
import { parseRetryAfter } from '../retry/retry-after.js';

/** Statuses that mean the media is gone: no retry will bring it back. */
const MISSING_STATUSES: ReadonlySet<number> = new Set([403, 404, 410]);

/** Statuses worth another try: the server may answer differently later. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 525, 526, 527, 529, 530]);

/** What a response's status means for a download. */
export type StatusVerdict =
  /** 200: the whole body follows. */
  | { kind: 'whole' }
  /** 206: a range follows; its Content-Range must still be checked against the one asked for. */
  | { kind: 'partial' }
  /** 416: the server refused the resume range; start again from zero. */
  | { kind: 'range-refused' }
  /** 403/404/410: the media is gone. */
  | { kind: 'missing' }
  /** Anything else: a failure, retryable or not, with the wait the server asked for. */
  | { kind: 'failed'; retryable: boolean; retryAfterMs: number | undefined };

/**
 * The one place that says what an HTTP status means: whole body, range, missing, or a failure
 * (retryable or not, with Retry-After read against `nowMs`, the injected clock's time).
 */
export function judgeStatus(statusCode: number, headers: IncomingHttpHeaders, nowMs: number): StatusVerdict {
  if (statusCode === 200) return { kind: 'whole' };
  if (statusCode === 206) return { kind: 'partial' };
  if (statusCode === 416) return { kind: 'range-refused' };
  if (MISSING_STATUSES.has(statusCode)) return { kind: 'missing' };
  return { kind: 'failed', retryable: isRetryableStatus(statusCode), retryAfterMs: parseRetryAfter(headers['retry-after'], nowMs) };
}

/** Whether a failed status is worth another try. */
export function isRetryableStatus(statusCode: number): boolean {
  return RETRYABLE_STATUSES.has(statusCode);
}

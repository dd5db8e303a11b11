import type { DownloadEventBase } from '../events/download-event-map.js';
import type { LedgerEntry } from '../ledger/download-ledger.js';
import type { Candidate, DownloadCall } from '../model/download-request.js';
import type { DownloadResult } from '../model/download-result.js';
import type { DetectedFormat, MediaType } from '../model/media-type.js';
import { FORMAT_INFO } from '../verify/media-formats.js';
import { hostMatches } from '../http/media-url.js';
import { redactCredentials } from '../http/redact.js';

/** The facts of a result that depend on how it ended. */
export type ResultFacts = Pick<DownloadResult, 'filename' | 'byteSize' | 'checksum' | 'status' | 'errorMessage' | 'errorCode' | 'contentType'>;

/** What the pipeline learned on the way that the result reports. */
export interface ResultTrail {
  /** Lower-case host of the URL; empty when the input was refused before any request. */
  host: string;
  attempts: number;
  resumedFrom: number;
  /** The Wayback capture the bytes come from. */
  captureTimestamp?: string;
  /** The earlier file with the same bytes. */
  deduplicatedFrom?: string;
  /** Which of the call's URLs served the bytes. */
  candidate?: Candidate;
}

/** Build the {@link DownloadResult} of a call from how it ended. Pure: the time comes in as `nowMs`. */
export function buildResult(call: DownloadCall, facts: ResultFacts, trail: ResultTrail, tumblrHosts: readonly string[], nowMs: number): DownloadResult {
  const onTumblr = trail.host !== '' && hostMatches(trail.host, tumblrHosts);
  const fromWayback = trail.captureTimestamp !== undefined;
  const result: DownloadResult = {
    filename: facts.filename,
    byteSize: facts.byteSize,
    checksum: facts.checksum,
    duration: nowMs - call.startedAt,
    source: fromWayback ? 'internet_archive' : onTumblr ? 'tumblr' : 'origin',
    status: facts.status,
    // Bytes from the Wayback Machine are only fetched after a Tumblr host said the media is gone.
    mediaMissingOnTumblr: (facts.status === 'missing' && onTumblr) || fromWayback,
    url: call.url,
    attempts: trail.attempts,
    resumedFromByte: trail.resumedFrom,
  };
  if (facts.errorMessage !== undefined) result.errorMessage = facts.errorMessage;
  if (facts.errorCode !== undefined) result.errorCode = facts.errorCode;
  if (facts.contentType !== undefined) result.contentType = facts.contentType;
  if (call.postId !== undefined) result.postId = call.postId;
  if (call.metadata !== undefined) result.metadata = call.metadata;
  if (call.priority !== undefined) result.priority = call.priority;
  if (facts.status === 'success' && fromWayback) result.captureTimestamp = trail.captureTimestamp;
  if (facts.status === 'success' && trail.deduplicatedFrom !== undefined) result.deduplicatedFrom = trail.deduplicatedFrom;
  if (facts.status === 'success' && call.fallbackUrls.length > 0 && trail.candidate !== undefined) {
    result.servedUrl = redactCredentials(trail.candidate.requestUrl);
    result.candidateIndex = trail.candidate.index;
  }
  return result;
}

/** What the bytes are, for the result: their format and family, or (kept on their Content-Type) unverified. */
export function formatFacts(mediaType: MediaType, format: DetectedFormat | undefined, warnings: readonly string[]): Partial<DownloadResult> {
  const facts: Partial<DownloadResult> =
    format !== undefined
      ? { detectedFormat: format, formatVerified: true, detectedMediaType: FORMAT_INFO[format].mediaType }
      : // A plain file is not judged as media at all; media of no known format was kept on its Content-Type.
        { detectedMediaType: mediaType, ...(mediaType === 'file' ? {} : { formatVerified: false }) };
  if (warnings.length > 0) facts.warnings = [...warnings];
  return facts;
}

/** What the ledger keeps of a result beyond the result itself. */
export interface LedgerExtras {
  /** The saved file's modification time, so the next run may trust it without reading. */
  mtimeMs?: number;
  etag?: string;
  lastModified?: string;
  /** An interrupted transfer kept its `.part` for the next run: so does its in-progress mark. */
  partKept?: boolean;
}

/** The ledger's row for a result. Pure: the time comes in as `nowMs`. */
export function ledgerEntry(call: DownloadCall, result: DownloadResult, extras: LedgerExtras, nowMs: number): LedgerEntry {
  const entry: LedgerEntry = {
    url: call.url,
    mediaType: call.mediaType,
    filename: result.filename,
    sha256: result.checksum,
    bytes: result.byteSize,
    source: result.source,
    status: result.status,
    recordedAt: nowMs,
  };
  if (extras.mtimeMs !== undefined) entry.mtimeMs = extras.mtimeMs;
  if (call.postId !== undefined) entry.postId = call.postId;
  if (call.index !== undefined) entry.index = call.index;
  if (result.status === 'success' && extras.etag !== undefined) entry.etag = extras.etag;
  if (result.status === 'success' && extras.lastModified !== undefined) entry.lastModified = extras.lastModified;
  if (result.errorCode !== undefined) entry.errorCode = result.errorCode;
  if (result.captureTimestamp !== undefined) entry.captureTimestamp = result.captureTimestamp;
  if (result.deduplicatedFrom !== undefined) entry.deduplicatedFrom = result.deduplicatedFrom;
  if (extras.partKept !== undefined) entry.partKept = extras.partKept;
  return entry;
}

/** The facts every event of a download carries. */
export function eventBase(call: DownloadCall, attempt: number): DownloadEventBase {
  const base: DownloadEventBase = { id: call.id, url: call.url, mediaType: call.mediaType, attempt };
  if (call.postId !== undefined) base.postId = call.postId;
  return base;
}

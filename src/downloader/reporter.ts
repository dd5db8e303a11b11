import type { DownloaderConfig } from '../config/downloader-config.js';
import type { DownloadError } from '../errors/download-error.js';
import { MediaNotFoundError } from '../errors/media-not-found-error.js';
import type { DownloadEvents } from '../events/download-events.js';
import type { DownloadCall, DownloadRequest } from '../model/download-request.js';
import type { DownloadResult } from '../model/download-result.js';
import type { Clock } from '../time/clock.js';
import type { FetchSucceeded } from './fetch-outcome.js';
import type { Placed } from './disk/placement.js';
import { redactCredentials } from '../http/redact.js';
import { buildResult, eventBase, formatFacts, ledgerEntry, type LedgerExtras, type ResultFacts, type ResultTrail } from './result-facts.js';
import type { Kept } from './skip-policy.js';
import type { TolerantLedger } from '../ledger/tolerant-ledger.js';
import { NoArchiveRecorder, type ArchiveRecorder, type HttpExchange } from '../archive/archive-recorder.js';
import type { MediaStore } from '../store/media-store.js';

/** How a download failed, as the pipeline hands it over. */
export interface Failure {
  error: DownloadError;
  attempts: number;
  resumedFrom: number;
  /** Content-Type of the last response whose body arrived. */
  contentType?: string;
  /** Whether a resumable `.part` stays on disk for the next run. */
  partKept?: boolean;
}

/**
 * The one place that tells the world: it publishes every event, builds every result and writes
 * every ledger entry. Stages hand it values; it never decides anything about a download.
 * Payloads of events nobody listens to are not built.
 */
export class Reporter {
  constructor(
    private readonly config: DownloaderConfig,
    private readonly events: DownloadEvents,
    private readonly ledger: TolerantLedger,
    private readonly clock: Clock,
    private readonly recorder: ArchiveRecorder = new NoArchiveRecorder(),
    /** Names the object a bucket keeps a file in; the folder store names none. */
    private readonly store?: Pick<MediaStore, 'objectUrl'>,
  ) {}

  /** Whether the archive recorder wants each download's exchanges. */
  get recording(): boolean {
    return this.recorder.recording;
  }

  /** An exchange of `request`: kept by the recorder until the download ends. */
  exchanged(request: DownloadRequest, exchange: HttpExchange): void {
    this.recorder.exchanged(request.id, exchange);
  }

  queued(request: DownloadRequest): void {
    if (this.events.hasListeners('queued'))
      this.events.publish('queued', { ...eventBase(request, 0), filename: request.intendedPath, ...(request.priority === undefined ? {} : { priority: request.priority }) });
  }

  started(request: DownloadRequest): void {
    if (this.events.hasListeners('started')) this.events.publish('started', eventBase(request, 0));
  }

  retrying(request: DownloadRequest, attempt: number, delayMs: number, error: DownloadError): void {
    if (!this.events.hasListeners('retrying')) return;
    this.events.publish('retrying', { ...eventBase(request, attempt), delayMs, reason: redactCredentials(error.message), code: error.code });
  }

  resumed(request: DownloadRequest, attempt: number, fromByte: number): void {
    if (this.events.hasListeners('resumed')) this.events.publish('resumed', { ...eventBase(request, attempt), fromByte });
  }

  /** A 429/503 with Retry-After paused a host; the keys of `pause` are those of the `rate-limited` event. */
  rateLimited(
    request: DownloadRequest,
    attempt: number,
    pause: { host: string; untilMs: number; statusCode: 429 | 503; retryAfterMs: number; pauseMs: number; capped: boolean },
  ): void {
    if (this.events.hasListeners('rate-limited')) this.events.publish('rate-limited', { ...eventBase(request, attempt), ...pause });
  }

  progress(request: DownloadRequest, attempt: number, bytes: number, total: number | undefined): void {
    try {
      request.progressCallback?.(bytes, total);
    } catch {
      // A caller's progress callback is an observer; it cannot fail the download.
    }
    if (this.events.hasListeners('progress')) this.events.publish('progress', { ...eventBase(request, attempt), bytes, total });
  }

  /** A transfer keeps its `.part` for resuming: leave a trace in the ledger, so an interrupted run can be found. */
  partKept(request: DownloadRequest, part: string): Promise<void> {
    return this.ledger.markStarted({ url: request.url, partPath: part, startedAt: this.clock.now() });
  }

  /** A file found intact on disk: no request was made. A file newly trusted is recorded so the next run trusts it cheaply. */
  async skipped(request: DownloadRequest, kept: Kept): Promise<DownloadResult> {
    const trail: ResultTrail = { host: request.host, attempts: 0, resumedFrom: 0, captureTimestamp: kept.captureTimestamp, deduplicatedFrom: kept.deduplicatedFrom };
    const facts: ResultFacts = { filename: kept.filename, byteSize: kept.byteSize, checksum: kept.checksum, status: 'success' };
    const result: DownloadResult = { ...buildResult(request, facts, trail, this.config.tumblrHosts, this.clock.now()), skipped: true };
    this.nameObject(result);
    if (kept.detectedFormat !== undefined) Object.assign(result, formatFacts(request.mediaType, kept.detectedFormat, []));
    // Adopted after verification: record it. Re-read because its time had changed (a copied archive): remember the new time.
    if (kept.verifiedBy === 'verifier') await this.record(request, result, { mtimeMs: kept.mtimeMs });
    else if (kept.verifiedBy === 'sha256') await this.ledger.confirmFile(kept.filename, kept.mtimeMs);
    const reason = kept.verifiedBy === 'verifier' ? 'existing-file' : 'ledger';
    if (this.events.hasListeners('skipped')) this.events.publish('skipped', { ...eventBase(request, 0), result, reason, verifiedBy: kept.verifiedBy });
    return result;
  }

  /** The bytes passed verification; their transfer is over (they are made durable and named next). */
  verified(request: DownloadRequest, fetched: FetchSucceeded): void {
    if (this.events.hasListeners('verified')) this.events.publish('verified', { ...eventBase(request, fetched.attempts), sha256: fetched.outcome.sha256 });
  }

  /** Verified bytes stand under their final name: record them, then say so. */
  async completed(request: DownloadRequest, fetched: FetchSucceeded, placed: Placed, repaired: boolean): Promise<DownloadResult> {
    const { outcome } = fetched;
    const base = eventBase(request, fetched.attempts);
    this.progress(request, fetched.attempts, outcome.byteSize, outcome.declaredSize ?? outcome.byteSize);
    // The host that served the bytes says where they come from (a fallback may be on another host).
    const trail: ResultTrail = { ...fetched, host: fetched.candidate?.host ?? request.host, deduplicatedFrom: placed.deduplicatedFrom };
    const facts: ResultFacts = { filename: placed.filename, byteSize: outcome.byteSize, checksum: outcome.sha256, status: 'success', contentType: outcome.contentType };
    const result: DownloadResult = {
      ...buildResult(request, facts, trail, this.config.tumblrHosts, this.clock.now()),
      ...formatFacts(request.mediaType, outcome.detectedFormat, outcome.warnings),
    };
    if (repaired) result.repaired = true;
    this.nameObject(result);
    await this.record(request, result, { mtimeMs: placed.mtimeMs, etag: outcome.etag, lastModified: outcome.lastModified });
    if (this.recorder.recording) {
      await this.recorder.saved({
        id: request.id,
        url: request.url,
        servedUrl: redactCredentials(outcome.finalUrl),
        ...(fetched.captureTimestamp === undefined ? {} : { captureOf: redactCredentials(fetched.candidate?.requestUrl ?? request.url) }),
        // A bucket's object is not on disk: the recorder reads the staged copy, and lets it go when done.
        file: placed.payloadFile ?? placed.filename,
        ...(placed.releasePayload ? { release: placed.releasePayload } : {}),
        sha256: outcome.sha256,
        byteSize: outcome.byteSize,
        contentType: outcome.contentType,
      });
    } else await placed.releasePayload?.();
    if (this.events.hasListeners('completed')) this.events.publish('completed', { ...base, result, repaired });
    return result;
  }

  /** The download failed (`request`), or its input was refused before any request (`call`: nothing is recorded). */
  async failed(call: DownloadCall | DownloadRequest, failure: Failure): Promise<DownloadResult> {
    const { error } = failure;
    if (call.requestUrl !== call.url) scrubCredentials(error, call.url);
    const missing = error instanceof MediaNotFoundError;
    const request = 'host' in call ? call : undefined;
    const facts: ResultFacts = {
      filename: request?.intendedPath ?? '',
      byteSize: 0,
      checksum: '',
      status: missing ? 'missing' : 'error',
      errorMessage: error.message,
      errorCode: error.code,
      contentType: failure.contentType,
    };
    const trail: ResultTrail = { host: request?.host ?? '', attempts: failure.attempts, resumedFrom: failure.resumedFrom };
    const result = buildResult(call, facts, trail, this.config.tumblrHosts, this.clock.now());
    if (request) await this.record(request, result, { partKept: result.status === 'error' ? failure.partKept : undefined });
    if (request && this.recorder.recording) {
      // The answer that says the media is gone is evidence; refused bytes and broken connections are not.
      if (missing) await this.recorder.missing({ id: request.id, url: request.url });
      else this.recorder.dropped(request.id);
    }
    const base = eventBase(call, failure.attempts);
    if (missing) this.events.publish('missing', { ...base, result });
    else this.events.publish('failed', { ...base, result, error });
    return result;
  }

  /** A file kept in a bucket: the result names its object too. */
  private nameObject(result: DownloadResult): void {
    const objectUrl = this.store?.objectUrl(result.filename);
    if (objectUrl !== undefined) result.objectUrl = objectUrl;
  }

  private record(call: DownloadCall, result: DownloadResult, extras: LedgerExtras): Promise<void> {
    return this.ledger.record(ledgerEntry(call, result, extras, this.clock.now()));
  }
}

/** Take the credentials of the download's URL out of an error before anyone sees it (message, url, cause). */
function scrubCredentials(error: DownloadError, redactedUrl: string): void {
  error.message = redactCredentials(error.message);
  Object.defineProperty(error, 'url', { value: redactedUrl });
  // The cause is got's error, which holds the request options, credentials included.
  delete (error as { cause?: unknown }).cause;
}

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../config/downloader-config.js';
import { DownloadError } from '../errors/download-error.js';
import { HttpStatusError } from '../errors/http-status-error.js';
import { MediaNotFoundError } from '../errors/media-not-found-error.js';
import { DownloadEvents } from '../events/download-events.js';
import type { DownloadEventBase } from '../events/download-event-map.js';
import { HttpClient } from '../http/http-client.js';
import { DownloadLedger, type LedgerEntry } from '../ledger/download-ledger.js';
import { checkRecordedFile } from '../ledger/check-recorded-file.js';
import { FilenameGenerator } from '../naming/filename-generator.js';
import { resolveInside } from '../naming/safe-path.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { RetryStrategy } from '../retry/retry-strategy.js';
import { Clock } from '../time/clock.js';
import { mediaTypeForExtension, type MediaType } from '../verify/media-type.js';
import { Verifier } from '../verify/verifier.js';
import { toDownloadError } from './classify-error.js';
import type { DownloadFileOptions, DownloadMediaOptions, ProgressCallback } from './download-options.js';
import type { DownloadResult } from './download-result.js';
import { hostMatches, parseMediaUrl } from './media-url.js';
import { discardPart, partPaths, sha256OfFile } from './part-file.js';
import { PathReservations, type Reservation } from './path-reservations.js';
import { Semaphore } from './semaphore.js';
import { placeFile } from './place-file.js';
import { TolerantLedger } from './tolerant-ledger.js';
import { Transfer, type TransferOutcome } from './transfer.js';
import { findCaptures } from './wayback.js';

/** Token of the {@link MediaDownloader} service. */
export const MediaDownloader = Symbol.for('tumblr-media-downloader/MediaDownloader');

/** Options of {@link MediaDownloader.close}. */
export interface CloseOptions {
  /** Abort running downloads (their `.part` files stay resumable) instead of waiting for them. @default false */
  abort?: boolean;
}

/**
 * Downloads media robustly and reports everything through {@link DownloadEvents}.
 * Per-item failures come back as a {@link DownloadResult}; the returned promises reject
 * only on misuse (for instance, a call after {@link close}).
 */
export interface MediaDownloader extends AsyncDisposable {
  /** Download `url` to `filename` (relative to `outputDir`, which it may not leave). */
  downloadFile(url: string, filename: string, options?: DownloadFileOptions, signal?: AbortSignal): Promise<DownloadResult>;
  /** Same as {@link downloadFile} with resume forced on, whatever the config says. */
  downloadWithResume(url: string, filename: string, options?: DownloadFileOptions, signal?: AbortSignal): Promise<DownloadResult>;
  /** Download an image of a post under the generated name. */
  downloadImage(url: string, postId: string, options?: DownloadMediaOptions, signal?: AbortSignal): Promise<DownloadResult>;
  /** Download a video of a post under the generated name. */
  downloadVideo(url: string, postId: string, options?: DownloadMediaOptions, signal?: AbortSignal): Promise<DownloadResult>;
  /** Download a GIF of a post under the generated name. */
  downloadGif(url: string, postId: string, options?: DownloadMediaOptions, signal?: AbortSignal): Promise<DownloadResult>;
  /** The base name a media item would get (delegates to the {@link FilenameGenerator}). */
  generateFilename(url: string, postId: string, mediaType: MediaType, index?: number): string;
  /** Refuse new work, then wait for (or abort) running downloads. */
  close(options?: CloseOptions): Promise<void>;
}

/** Everything one download needs to know, fixed at the call. */
interface Job extends DownloadEventBase {
  host: string;
  target: string;
  /** For media calls: how to rename once the Content-Type is known. */
  rename?: (contentType: string | undefined) => string;
  metadata?: Record<string, unknown>;
  /** Position of the media within its post, for media calls. */
  index?: number;
  verifySize: boolean;
  verifyContentType: boolean;
  expectedChecksum?: string;
  resume: boolean;
  progressCallback?: ProgressCallback;
  startedAt: number;
  resumedFrom: number;
  contentType?: string;
  etag?: string;
  lastModified?: string;
  /** Path the `.part` is named after, once a name is reserved. */
  partBase?: string;
  /** Timestamp of the Wayback capture the bytes come from, while and after they do. */
  captureTimestamp?: string;
  deduplicatedFrom?: string;
}

/**
 * The default downloader: bounded concurrency (global and per host), a rate
 * limiter per host, retries from the {@link RetryStrategy}, resumable `.part`
 * files, verification, and an atomic, no-clobber finalize.
 */
@injectable()
export class DefaultMediaDownloader implements MediaDownloader {
  private readonly transfer: Transfer;
  private readonly reservations = new PathReservations();
  private readonly globalSlots: Semaphore;
  private readonly hostSlots = new Map<string, Semaphore>();
  private readonly inFlight = new Set<Promise<DownloadResult>>();
  private readonly createdDirectories = new Set<string>();
  /**
   * One controller per running download, aborted by close({abort}). Not one shared signal: every queued
   * download would add a listener to it, and EventTarget listener bookkeeping made 2000 queued downloads
   * cost O(n²) (seen at 4 % of CPU in a profile).
   */
  private readonly jobControllers = new Set<AbortController>();
  private closed = false;
  private nextId = 0;
  /** The ledger as the downloader uses it: a failing ledger never fails a download. */
  private readonly book: TolerantLedger;

  constructor(
    @inject(DownloaderConfig) protected readonly config: DownloaderConfig,
    @inject(HttpClient) protected readonly http: HttpClient,
    @inject(RateLimiter) protected readonly rateLimiter: RateLimiter,
    @inject(RetryStrategy) protected readonly retryStrategy: RetryStrategy,
    @inject(Verifier) protected readonly verifier: Verifier,
    @inject(FilenameGenerator) protected readonly filenameGenerator: FilenameGenerator,
    @inject(DownloadEvents) protected readonly events: DownloadEvents,
    @inject(Clock) protected readonly clock: Clock,
    @inject(DownloadLedger) protected readonly ledger: DownloadLedger,
  ) {
    this.transfer = new Transfer(http, verifier, config);
    this.globalSlots = new Semaphore(config.maxConcurrent);
    this.book = new TolerantLedger(ledger);
  }

  downloadFile(url: string, filename: string, options: DownloadFileOptions = {}, signal?: AbortSignal): Promise<DownloadResult> {
    const extension = path.extname(String(filename)).slice(1);
    return this.track(url, signal, options.mediaType ?? mediaTypeForExtension(extension), options.postId, options, () => ({
      target: resolveInside(this.config.outputDir, filename, url),
    }));
  }

  downloadWithResume(url: string, filename: string, options: DownloadFileOptions = {}, signal?: AbortSignal): Promise<DownloadResult> {
    return this.downloadFile(url, filename, { ...options, resume: true }, signal);
  }

  downloadImage(url: string, postId: string, options: DownloadMediaOptions = {}, signal?: AbortSignal): Promise<DownloadResult> {
    return this.downloadMedia(url, postId, 'image', options, signal);
  }

  downloadVideo(url: string, postId: string, options: DownloadMediaOptions = {}, signal?: AbortSignal): Promise<DownloadResult> {
    return this.downloadMedia(url, postId, 'video', options, signal);
  }

  downloadGif(url: string, postId: string, options: DownloadMediaOptions = {}, signal?: AbortSignal): Promise<DownloadResult> {
    return this.downloadMedia(url, postId, 'gif', options, signal);
  }

  generateFilename(url: string, postId: string, mediaType: MediaType, index = 0): string {
    return this.filenameGenerator.generateFilename(url, postId, mediaType, index);
  }

  async close(options: CloseOptions = {}): Promise<void> {
    this.closed = true;
    if (options.abort) {
      const reason = new DownloadError('ABORTED', 'Downloader closed');
      for (const controller of this.jobControllers) controller.abort(reason);
    }
    await Promise.allSettled([...this.inFlight]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private downloadMedia(url: string, postId: string, mediaType: MediaType, options: DownloadMediaOptions, signal?: AbortSignal): Promise<DownloadResult> {
    const index = options.index ?? 0;
    const nameFor = (contentType?: string): string =>
      resolveInside(this.config.outputDir, this.filenameGenerator.generateFilename(url, postId, mediaType, index, contentType), url);
    return this.track(url, signal, mediaType, postId, { ...options, index }, () => ({ target: nameFor(), rename: nameFor }));
  }

  /** Common entry: refuse misuse, register the download so close() can wait for it. */
  private track(
    url: string,
    signal: AbortSignal | undefined,
    mediaType: MediaType,
    postId: string | undefined,
    options: DownloadFileOptions & DownloadMediaOptions,
    locate: () => { target: string; rename?: Job['rename'] },
  ): Promise<DownloadResult> {
    // A rejected promise, not a synchronous throw: callers chain .catch() on what these methods return.
    if (this.closed) return Promise.reject(new DownloadError('CLOSED', 'The downloader is closed; no new downloads are accepted'));
    const job: Job = {
      id: `dl-${++this.nextId}`,
      url: String(url),
      postId: postId === undefined ? undefined : String(postId),
      mediaType,
      attempt: 0,
      host: '',
      target: '',
      metadata: options.metadata,
      index: options.index,
      verifySize: options.verifySize ?? true,
      verifyContentType: options.verifyContentType ?? true,
      expectedChecksum: options.expectedChecksum,
      resume: options.resume ?? this.config.resume,
      progressCallback: options.progressCallback,
      startedAt: this.clock.now(),
      resumedFrom: 0,
    };
    const controller = new AbortController();
    this.jobControllers.add(controller);
    const running = this.execute(job, locate, controller, signal);
    this.inFlight.add(running);
    void running.finally(() => {
      this.inFlight.delete(running);
      this.jobControllers.delete(controller);
    });
    return running;
  }

  private async execute(
    job: Job,
    locate: () => { target: string; rename?: Job['rename'] },
    controller: AbortController,
    callerSignal?: AbortSignal,
  ): Promise<DownloadResult> {
    try {
      job.host = parseMediaUrl(job.url).hostname.toLowerCase();
      const located = locate();
      job.target = located.target;
      job.rename = located.rename;
    } catch (error) {
      // Refused input: no request was made and nothing was written.
      return this.fail(job, toDownloadError(error, job.url));
    }
    this.events.publish('queued', { ...this.base(job), filename: job.target });
    const done = (await this.recordedAsSaved(job)) ?? (this.config.onExisting === 'skip' ? await this.existingFile(job) : undefined);
    if (done) return done;
    const signal = callerSignal ? AbortSignal.any([callerSignal, controller.signal]) : controller.signal;
    let releaseHost: (() => void) | undefined;
    let releaseGlobal: (() => void) | undefined;
    let reservation: Reservation | undefined;
    try {
      // Host slot first, then a global one: a download waiting for its host never holds a slot others could use.
      releaseHost = await this.hostSemaphore(job.host).acquire(signal);
      releaseGlobal = await this.globalSlots.acquire(signal);
      await this.ensureDirectory(path.dirname(job.target));
      reservation = await this.reservations.reserve(job.target);
      this.events.publish('started', this.base(job));
      const partBase = reservation.path;
      job.partBase = partBase;
      const outcome = await this.attempts(job, partBase, job.url, 0, signal).catch((error: unknown) => this.fromWayback(job, partBase, signal, error));
      reservation = await this.finalName(job, reservation, outcome);
      const placed = await placeFile(
        { partBase, reservation, sha256: outcome.sha256, byteSize: outcome.byteSize, hasSidecar: outcome.hasSidecar },
        this.book,
        this.config.ledger.dedupe,
        this.reservations,
      );
      reservation = placed.reservation;
      job.deduplicatedFrom = placed.deduplicatedFrom;
      return await this.succeed(job, placed.filename, outcome);
    } catch (error) {
      return await this.fail(job, toDownloadError(error, job.url, signal));
    } finally {
      reservation?.release();
      releaseGlobal?.();
      releaseHost?.();
      this.pruneHost(job.host);
    }
  }

  /** mkdir -p once per directory, not once per file. */
  private async ensureDirectory(dir: string): Promise<void> {
    if (this.createdDirectories.has(dir)) return;
    await fs.mkdir(dir, { recursive: true });
    this.createdDirectories.add(dir);
  }

  /**
   * With `ledger.skipCompleted`: the recorded result, when the ledger says this URL was saved and its
   * file is still there with the recorded size. No request, no hashing: `tumblr-dl verify` is the deep check.
   */
  private async recordedAsSaved(job: Job): Promise<DownloadResult | undefined> {
    if (!this.config.ledger.skipCompleted) return undefined;
    const record = await this.book.lookup(job.url);
    if (record?.status !== 'success') return undefined;
    if ((await checkRecordedFile(record, { hash: false })).state !== 'intact') return undefined;
    job.captureTimestamp = record.captureTimestamp;
    job.deduplicatedFrom = record.deduplicatedFrom;
    const result = { ...this.result(job, { filename: record.filename, byteSize: record.bytes, checksum: record.sha256, status: 'success' }), skipped: true };
    this.events.publish('skipped', { ...this.base(job), result, reason: 'ledger' });
    return result;
  }

  /**
   * With `onExisting: 'skip'`: the result for a file already under the final name, hashed, with no
   * request. Recorded in the ledger, so the next run skips it without hashing.
   */
  private async existingFile(job: Job): Promise<DownloadResult | undefined> {
    const stat = await fs.stat(job.target).catch(() => undefined);
    if (!stat?.isFile() || stat.size === 0) return undefined;
    const checksum = await sha256OfFile(job.target, stat.size);
    const result = { ...this.result(job, { filename: job.target, byteSize: stat.size, checksum, status: 'success' }), skipped: true };
    await this.record(job, result);
    this.events.publish('skipped', { ...this.base(job), result, reason: 'existing-file' });
    return result;
  }

  /** The attempts at one URL, with retries and a `retrying` event before each wait. */
  private attempts(job: Job, partBase: string, sourceUrl: string, attemptsBefore: number, signal: AbortSignal): Promise<TransferOutcome> {
    return this.retryStrategy.run((attempt) => this.attempt(job, partBase, attemptsBefore + attempt, signal, sourceUrl), {
      signal,
      onRetry: (notice) => {
        const error = toDownloadError(notice.error, sourceUrl);
        this.events.publish('retrying', { ...this.base(job), delayMs: notice.delayMs, reason: error.message, code: error.code });
      },
    });
  }

  /**
   * Media a Tumblr host says is gone: try the newest Wayback captures (raw `id_` form), each verified like
   * any download, so an archived HTML page or placeholder is refused. Without a usable capture, the
   * original "missing" error stands, with what the Wayback Machine said added to its message.
   */
  private async fromWayback(job: Job, partBase: string, signal: AbortSignal, error: unknown): Promise<TransferOutcome> {
    const onTumblr = hostMatches(job.host, this.config.tumblrHosts);
    if (!this.config.wayback.enabled || !(error instanceof MediaNotFoundError) || !onTumblr) throw error;
    let note: string;
    try {
      const captures = await this.retryStrategy.run(() => findCaptures(this.http, this.config.wayback, job.url, signal), { signal });
      note = 'no Wayback capture';
      for (const capture of captures) {
        job.captureTimestamp = capture.timestamp;
        try {
          return await this.attempts(job, partBase, capture.rawUrl, job.attempt, signal);
        } catch (captureError) {
          if (signal.aborted) throw captureError;
          note = `Wayback capture ${capture.timestamp} refused: ${toDownloadError(captureError, capture.rawUrl).message}`;
        }
      }
    } catch (lookupError) {
      if (signal.aborted) throw lookupError;
      note = `Wayback lookup failed: ${(lookupError as Error).message}`;
    }
    job.captureTimestamp = undefined;
    error.message = `${error.message}; ${note}`;
    throw error;
  }

  /** One attempt: wait for the rate limiter, move the bytes, verify them. */
  private async attempt(job: Job, partBase: string, attempt: number, signal: AbortSignal, sourceUrl: string): Promise<TransferOutcome> {
    job.attempt = attempt;
    const host = sourceUrl === job.url ? job.host : new URL(sourceUrl).hostname.toLowerCase();
    await this.rateLimiter.acquire(1, { key: host, signal });
    let lastProgress = -Infinity;
    try {
      const outcome = await this.transfer.run({
        url: sourceUrl,
        mediaType: job.mediaType,
        target: partBase,
        resume: job.resume,
        verifyContentType: job.verifyContentType,
        signal,
        // Only .part files kept for resuming are worth a trace: smaller ones are fetched again from zero,
        // and a ledger write per small file cost a measurable share of a small-file archive's time.
        onPartKept: (part) => this.book.markStarted({ url: job.url, partPath: part, startedAt: Date.now() }),
        onResumed: (fromByte) => {
          job.resumedFrom = fromByte;
          this.events.publish('resumed', { ...this.base(job), fromByte });
        },
        onProgress: (bytes, total) => {
          const now = performance.now();
          if (now - lastProgress < this.config.progressIntervalMs) return;
          lastProgress = now;
          this.reportProgress(job, bytes, total);
        },
      });
      job.contentType = outcome.contentType;
      job.etag = outcome.etag;
      job.lastModified = outcome.lastModified;
      await this.verifier.verify({
        url: sourceUrl,
        mediaType: job.mediaType,
        contentType: outcome.contentType,
        declaredSize: outcome.declaredSize,
        verifyContentType: job.verifyContentType,
        extension: path.extname(job.rename?.(outcome.contentType) ?? job.target).slice(1),
        byteSize: outcome.byteSize,
        sha256: outcome.sha256,
        head: outcome.head,
        expectedChecksum: job.expectedChecksum,
        verifySize: job.verifySize,
        resumed: outcome.resumedFrom > 0,
      }).catch(async (error: unknown) => {
        // Bytes that failed verification are never kept, not even for a resume.
        await discardPart(partBase);
        throw error;
      });
      return outcome;
    } catch (error) {
      this.noteRateLimit(job, host, error);
      throw error;
    }
  }

  /** A 429/503 with Retry-After pauses the whole host, not just this download. */
  private noteRateLimit(job: Job, host: string, error: unknown): void {
    if (!(error instanceof HttpStatusError) || error.retryAfterMs === undefined) return;
    if (error.statusCode !== 429 && error.statusCode !== 503) return;
    const untilMs = this.clock.now() + error.retryAfterMs;
    this.rateLimiter.cooldown(host, untilMs);
    this.events.publish('rate-limited', { ...this.base(job), host, untilMs });
  }

  /** When the URL had no extension, the Content-Type may name a better one: reserve that name instead. */
  private async finalName(job: Job, reservation: Reservation, outcome: TransferOutcome): Promise<Reservation> {
    const wanted = job.rename?.(outcome.contentType);
    if (wanted === undefined || wanted === reservation.requested) return reservation;
    const renamed = await this.reservations.reserve(wanted);
    // The .part keeps the name it was written under; finalize moves it to the new reservation.
    return { path: renamed.path, requested: renamed.requested, release: () => (renamed.release(), reservation.release()) };
  }

  private async succeed(job: Job, filename: string, outcome: TransferOutcome): Promise<DownloadResult> {
    this.events.publish('verified', { ...this.base(job), sha256: outcome.sha256 });
    this.reportProgress(job, outcome.byteSize, outcome.declaredSize ?? outcome.byteSize);
    const result = this.result(job, {
      filename,
      byteSize: outcome.byteSize,
      checksum: outcome.sha256,
      status: 'success',
      contentType: outcome.contentType,
    });
    await this.record(job, result);
    this.events.publish('completed', { ...this.base(job), result });
    return result;
  }

  private async fail(job: Job, error: DownloadError): Promise<DownloadResult> {
    const missing = error instanceof MediaNotFoundError;
    const result = this.result(job, {
      filename: job.target,
      byteSize: 0,
      checksum: '',
      status: missing ? 'missing' : 'error',
      errorMessage: error.message,
      errorCode: error.code,
      contentType: job.contentType,
    });
    // Input refused before any request has no URL worth remembering.
    if (job.host !== '') await this.record(job, result);
    if (missing) this.events.publish('missing', { ...this.base(job), result });
    else this.events.publish('failed', { ...this.base(job), result, error });
    return result;
  }

  private result(job: Job, facts: Pick<DownloadResult, 'filename' | 'byteSize' | 'checksum' | 'status' | 'errorMessage' | 'errorCode' | 'contentType'>): DownloadResult {
    const onTumblr = job.host !== '' && hostMatches(job.host, this.config.tumblrHosts);
    const result: DownloadResult = {
      ...facts,
      duration: this.clock.now() - job.startedAt,
      source: job.captureTimestamp !== undefined ? 'internet_archive' : onTumblr ? 'tumblr' : 'origin',
      // Bytes from the Wayback Machine are only fetched after a Tumblr host said the media is gone.
      mediaMissingOnTumblr: (facts.status === 'missing' && onTumblr) || job.captureTimestamp !== undefined,
      url: job.url,
      attempts: job.attempt,
      resumedFromByte: job.resumedFrom,
    };
    if (job.postId !== undefined) result.postId = job.postId;
    if (job.metadata !== undefined) result.metadata = job.metadata;
    if (job.captureTimestamp !== undefined && facts.status === 'success') result.captureTimestamp = job.captureTimestamp;
    if (job.deduplicatedFrom !== undefined && facts.status === 'success') result.deduplicatedFrom = job.deduplicatedFrom;
    for (const key of ['errorMessage', 'errorCode', 'contentType'] as const) if (result[key] === undefined) delete result[key];
    return result;
  }

  /** Store the result in the ledger (one transaction). */
  private async record(job: Job, result: DownloadResult): Promise<void> {
    const entry: LedgerEntry = {
      url: job.url,
      mediaType: job.mediaType,
      filename: result.filename,
      sha256: result.checksum,
      bytes: result.byteSize,
      source: result.source,
      status: result.status,
      recordedAt: Date.now(),
    };
    if (job.postId !== undefined) entry.postId = job.postId;
    if (job.index !== undefined) entry.index = job.index;
    if (result.status === 'success' && job.etag !== undefined) entry.etag = job.etag;
    if (result.status === 'success' && job.lastModified !== undefined) entry.lastModified = job.lastModified;
    if (result.errorCode !== undefined) entry.errorCode = result.errorCode;
    if (result.captureTimestamp !== undefined) entry.captureTimestamp = result.captureTimestamp;
    if (result.deduplicatedFrom !== undefined) entry.deduplicatedFrom = result.deduplicatedFrom;
    // An interrupted transfer keeps its .part for the next run: so does its in-progress mark.
    if (result.status === 'error' && job.partBase !== undefined) {
      entry.partKept = await fs.access(partPaths(job.partBase).part).then(() => true, () => false);
    }
    await this.book.record(entry);
  }

  private reportProgress(job: Job, bytes: number, total: number | undefined): void {
    try {
      job.progressCallback?.(bytes, total);
    } catch {
      // A caller's progress callback is an observer; it cannot fail the download.
    }
    if (this.events.hasListeners('progress')) this.events.publish('progress', { ...this.base(job), bytes, total });
  }

  private base(job: Job): DownloadEventBase {
    const base: DownloadEventBase = { id: job.id, url: job.url, mediaType: job.mediaType, attempt: job.attempt };
    if (job.postId !== undefined) base.postId = job.postId;
    return base;
  }

  private hostSemaphore(host: string): Semaphore {
    let semaphore = this.hostSlots.get(host);
    if (!semaphore) {
      semaphore = new Semaphore(this.config.perHostConcurrency);
      this.hostSlots.set(host, semaphore);
    }
    return semaphore;
  }

  /** Forget idle hosts so an archive touching 100k hosts does not keep 100k semaphores. */
  private pruneHost(host: string): void {
    const semaphore = this.hostSlots.get(host);
    if (semaphore && semaphore.inUse === 0 && semaphore.queued === 0) this.hostSlots.delete(host);
  }
}

import * as path from 'node:path';
import { inject, injectable } from 'inversify';
import { DownloaderConfig } from '../config/downloader-config.js';
import { DownloadError } from '../errors/download-error.js';
import { DownloadEvents } from '../events/download-events.js';
import { HttpClient } from '../http/http-client.js';
import { DownloadLedger } from '../ledger/download-ledger.js';
import { ArchiveRecorder } from '../archive/archive-recorder.js';
import { MediaStore } from '../store/media-store.js';
import type { DownloadCall } from '../model/download-request.js';
import type { DownloadResult } from '../model/download-result.js';
import { FilenameGenerator, type FilenameContext } from '../naming/filename-generator.js';
import { resolveInside } from '../naming/safe-path.js';
import { RateLimiter } from '../rate-limit/rate-limiter.js';
import { BandwidthLimiter } from '../rate-limit/bandwidth-limiter.js';
import { RetryStrategy } from '../retry/retry-strategy.js';
import { serviceToken, type ServiceToken } from '../service-token.js';
import { Clock } from '../time/clock.js';
import { mediaTypeForExtension } from '../verify/media-formats.js';
import type { MediaType } from '../model/media-type.js';
import { Verifier } from '../verify/verifier.js';
import { toDownloadError } from '../errors/classify-error.js';
import { acceptCall, describeCall, mediaDestination, type Destination } from './download-call.js';
import type { DownloadFileOptions, DownloadMediaOptions } from './download-options.js';
import { DownloadPipeline } from './download-pipeline.js';
import { FolderLock } from './disk/folder-lock.js';
import { RunningDownloads } from './running-downloads.js';

/** Token of the {@link MediaDownloader} service. */
export const MediaDownloader: ServiceToken<MediaDownloader> = serviceToken('MediaDownloader');

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
  /** Download the audio of a post (a Tumblr-hosted MP3 or M4A) under the generated name. */
  downloadAudio(url: string, postId: string, options?: DownloadMediaOptions, signal?: AbortSignal): Promise<DownloadResult>;
  /** The name a media item would get before its bytes are known (delegates to the {@link FilenameGenerator}). */
  generateFilename(url: string, postId: string, mediaType: MediaType, index?: number): string;
  /** Refuse new work, then wait for (or abort) running downloads. */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * The default downloader: a thin façade over the `DownloadPipeline` (see docs/architecture.md). It holds the output
 * folder's lock, turns each public call into a request, and lets close() wait for (or abort) them.
 */
@injectable()
export class DefaultMediaDownloader implements MediaDownloader {
  private readonly pipeline: DownloadPipeline;
  private readonly running = new RunningDownloads();
  private closed = false;
  private nextId = 0;

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
    @inject(BandwidthLimiter) protected readonly bandwidth: BandwidthLimiter,
    /** The output folder is ours until close(): a second run on it would corrupt both. */
    @inject(FolderLock) protected readonly folderLock: FolderLock,
    /** Keeps the evidence of each download (a WARC with `archive.warc`); closed after the downloads settle. */
    @inject(ArchiveRecorder) protected readonly recorder: ArchiveRecorder,
    /** Where verified files are kept: the output folder, or a bucket (`store.url`). */
    @inject(MediaStore) protected readonly store: MediaStore,
  ) {
    this.pipeline = DownloadPipeline.assemble({ config, http, rateLimiter, bandwidth, retryStrategy, verifier, events, clock, ledger, recorder, store });
  }

  downloadFile(url: string, filename: string, options: DownloadFileOptions = {}, signal?: AbortSignal): Promise<DownloadResult> {
    const mediaType = options.mediaType ?? mediaTypeForExtension(path.extname(String(filename)).slice(1));
    return this.track(url, mediaType, options.postId, options, signal, () => ({ intendedPath: resolveInside(this.config.outputDir, filename, url) }));
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

  downloadAudio(url: string, postId: string, options: DownloadMediaOptions = {}, signal?: AbortSignal): Promise<DownloadResult> {
    return this.downloadMedia(url, postId, 'audio', options, signal);
  }

  generateFilename(url: string, postId: string, mediaType: MediaType, index = 0): string {
    return this.filenameGenerator.generateFilename({ url, postId, mediaType, index });
  }

  async close(options: CloseOptions = {}): Promise<void> {
    this.closed = true;
    if (options.abort) this.running.abortAll();
    await this.running.settled();
    try {
      // The archive's open file is closed (and indexed) while the folder is still ours.
      await this.recorder.close();
      await this.store.close();
    } finally {
      this.folderLock.release();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private downloadMedia(url: string, postId: string, mediaType: MediaType, options: DownloadMediaOptions, signal?: AbortSignal): Promise<DownloadResult> {
    // A JavaScript host may pass a numeric id: names are built from strings.
    const media: FilenameContext = { url, postId: String(postId), mediaType, index: options.index ?? 0 };
    if (options.metadata !== undefined) media.metadata = options.metadata;
    return this.track(url, mediaType, postId, { ...options, index: media.index }, signal, () => mediaDestination(this.config.outputDir, this.filenameGenerator, media));
  }

  /** Common entry: refuse misuse, register the download so close() can wait for it. */
  private track(
    url: string,
    mediaType: MediaType,
    postId: string | undefined,
    options: DownloadFileOptions & DownloadMediaOptions,
    callerSignal: AbortSignal | undefined,
    locate: () => Destination,
  ): Promise<DownloadResult> {
    // A rejected promise, not a synchronous throw: callers chain .catch() on what these methods return.
    if (this.closed) return Promise.reject(new DownloadError('CLOSED', 'The downloader is closed; no new downloads are accepted'));
    const call = describeCall(`dl-${++this.nextId}`, url, mediaType, postId, options, { resume: this.config.resume, nowMs: this.clock.now() });
    return this.running.start(callerSignal, (signal) => this.run(call, locate, signal));
  }

  private run(call: DownloadCall, locate: () => Destination, signal: AbortSignal): Promise<DownloadResult> {
    try {
      return this.pipeline.run(acceptCall(call, locate), signal);
    } catch (error) {
      // Refused input: no request was made and nothing was written.
      return this.pipeline.refuse(call, toDownloadError(error, call.url));
    }
  }
}

import * as path from 'node:path';
import type { DownloaderConfig } from '../config/downloader-config.js';
import { HttpStatusError } from '../errors/http-status-error.js';
import { IntegrityError } from '../errors/integrity-error.js';
import type { DownloadRequest } from '../model/download-request.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { RetryStrategy } from '../retry/retry-strategy.js';
import type { Clock } from '../time/clock.js';
import { bytesFacts } from '../verify/verification-facts.js';
import type { Verifier } from '../verify/verifier.js';
import { toDownloadError } from '../errors/classify-error.js';
import type { DownloadTarget } from './download-target.js';
import type { Fetched, VerifiedOutcome } from './fetch-outcome.js';
import { discardPart } from './disk/part-file.js';
import type { Reporter } from './reporter.js';
import type { HttpExchange } from '../archive/archive-recorder.js';
import type { Transfer, TransferObserver, TransferOutcome } from './transfer/transfer.js';

/** Where one run of attempts takes its bytes from. */
export interface AttemptSource {
  /** URL to fetch (the request's own, a fallback's, or a Wayback capture's). */
  url: string;
  /** Lower-case host of `url`: the key of its rate limit, cooldown and bandwidth cap. */
  host: string;
  /** Attempts already made for this download (at earlier URLs). */
  attemptsBefore: number;
}

/** What one attempt learned that the next one, or the result, needs. */
interface AttemptMemory {
  attempt: number;
  resumedFrom: number;
  contentType: string | undefined;
  /** SHA-256 of an earlier attempt's body that failed the structure check. */
  truncatedSha256: string | undefined;
  /** Whether the last transfer left its `.part` on disk for a later attempt or run; `undefined` until a transfer has said. */
  partKept: boolean | undefined;
}

/**
 * Runs the attempts at one source under the {@link RetryStrategy}: each attempt waits for the
 * {@link RateLimiter}, moves the bytes, verifies them, and on a 429/503 with Retry-After puts the
 * whole host in cooldown. Returns what came of it as a value.
 */
export class AttemptRunner {
  constructor(
    private readonly config: DownloaderConfig,
    private readonly transfer: Transfer,
    private readonly rateLimiter: RateLimiter,
    private readonly retryStrategy: RetryStrategy,
    private readonly verifier: Verifier,
    private readonly clock: Clock,
    private readonly reporter: Reporter,
  ) {}

  async run(request: DownloadRequest, source: AttemptSource, target: DownloadTarget, signal: AbortSignal): Promise<Fetched> {
    const memory: AttemptMemory = { attempt: source.attemptsBefore, resumedFrom: 0, contentType: undefined, truncatedSha256: undefined, partKept: undefined };
    try {
      const outcome = await this.retryStrategy.run(
        (attempt) => {
          memory.attempt = source.attemptsBefore + attempt;
          return this.attempt(request, source, target, memory, signal);
        },
        { signal, onRetry: (notice) => this.reporter.retrying(request, memory.attempt, notice.delayMs, toDownloadError(notice.error, source.url)) },
      );
      return { ok: true, outcome, attempts: memory.attempt, resumedFrom: memory.resumedFrom };
    } catch (error) {
      const { attempt: attempts, resumedFrom, contentType, partKept } = memory;
      return { ok: false, error, attempts, resumedFrom, contentType, partKept };
    }
  }

  /** One attempt: wait for the rate limiter, move the bytes, verify them. */
  private async attempt(request: DownloadRequest, source: AttemptSource, target: DownloadTarget, memory: AttemptMemory, signal: AbortSignal): Promise<VerifiedOutcome> {
    const { host } = source;
    await this.rateLimiter.acquire(1, { key: host, signal });
    try {
      const observer = new AttemptObserver(request, memory, this.reporter, this.clock, this.config.progressIntervalMs);
      const transferRequest = {
        url: source.url,
        host,
        mediaType: request.mediaType,
        partBase: target.partBase,
        resume: request.resume,
        verifyContentType: request.verifyContentType,
        signal,
      };
      const outcome = await this.transfer.run(transferRequest, observer);
      memory.contentType = outcome.contentType;
      return await this.verify(request, source, target, outcome, memory);
    } catch (error) {
      this.noteRateLimit(request, memory.attempt, host, error);
      throw error;
    }
  }

  /** Judge the complete `.part`; bytes that fail are never kept, not even for a resume. */
  private async verify(request: DownloadRequest, source: AttemptSource, target: DownloadTarget, outcome: TransferOutcome, memory: AttemptMemory): Promise<VerifiedOutcome> {
    const bytes = bytesFacts(outcome.probe, outcome.sha256, outcome.byteSize);
    const { detectedFormat } = bytes;
    try {
      // Inside the try: a host's generator that throws, or a name refused by resolveInside, drops the bytes like a refusal.
      const nameByContent = request.nameFor?.(detectedFormat, outcome.contentType);
      const name = target.replaces ?? nameByContent ?? request.intendedPath;
      const verdict = await this.verifier.verify({
        url: source.url,
        mediaType: request.mediaType,
        contentType: outcome.contentType,
        declaredSize: outcome.declaredSize,
        verifyContentType: request.verifyContentType,
        extension: path.extname(name).slice(1),
        ...bytes,
        previousTruncatedSha256: memory.truncatedSha256,
        expectedChecksum: request.expectedChecksum,
        verifySize: request.verifySize,
        resumed: outcome.resumedFrom > 0,
      });
      const { probe: _spoken, ...kept } = outcome;
      return { ...kept, detectedFormat, warnings: verdict?.warnings ?? [], nameByContent };
    } catch (error) {
      // The same cut bytes once more will be the origin's own: see the structure check.
      if (error instanceof IntegrityError && error.failure === 'TRUNCATED') memory.truncatedSha256 = outcome.sha256;
      await outcome.part.abandon();
      await discardPart(target.partBase);
      memory.partKept = false;
      throw error;
    }
  }

  /** A 429/503 with Retry-After pauses the whole host, not just this download. */
  private noteRateLimit(request: DownloadRequest, attempt: number, host: string, error: unknown): void {
    if (!(error instanceof HttpStatusError) || error.retryAfterMs === undefined) return;
    const { statusCode, retryAfterMs } = error;
    if (statusCode !== 429 && statusCode !== 503) return;
    // Never longer than maxRetryAfter: a hostile "Retry-After: 999999" fails its own item (the retry strategy
    // gives up on it), not the whole host for days.
    const pauseMs = Math.min(retryAfterMs, this.config.retry.maxRetryAfter);
    const untilMs = this.clock.now() + pauseMs;
    this.rateLimiter.cooldown(host, untilMs);
    this.reporter.rateLimited(request, attempt, { host, untilMs, statusCode, retryAfterMs, pauseMs, capped: retryAfterMs > pauseMs });
  }
}

/** Passes one attempt's progress to the reporter, throttled to `progressIntervalMs` on the injected clock. */
class AttemptObserver implements TransferObserver {
  private lastProgress = -Infinity;

  constructor(
    private readonly request: DownloadRequest,
    private readonly memory: AttemptMemory,
    private readonly reporter: Reporter,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  progress(bytes: number, total: number | undefined): void {
    const now = this.clock.now();
    if (now - this.lastProgress < this.intervalMs) return;
    this.lastProgress = now;
    this.reporter.progress(this.request, this.memory.attempt, bytes, total);
  }

  partLeft(kept: boolean): void {
    this.memory.partKept = kept;
  }

  resumed(fromByte: number): void {
    this.memory.resumedFrom = fromByte;
    this.reporter.resumed(this.request, this.memory.attempt, fromByte);
  }

  partKept(part: string): Promise<void> {
    return this.reporter.partKept(this.request, part);
  }

  get recording(): boolean {
    return this.reporter.recording;
  }

  exchanged(exchange: HttpExchange): void {
    this.reporter.exchanged(this.request, exchange);
  }
}

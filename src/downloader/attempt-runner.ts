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
import type { Fetched, VerifiedOutcome } from './fetch-outcome.js';
import { discardPart } from './disk/part-file.js';
import type { Reporter } from './reporter.js';
import type { Transfer, TransferObserver, TransferOutcome } from './transfer/transfer.js';

/** Where one run of attempts takes its bytes from and puts them. */
export interface AttemptSource {
  /** URL to fetch (the request's own, or a fallback's). */
  url: string;
  /** Path the `.part` is named after. */
  partBase: string;
  /** The damaged file a repair replaces: its name decides the extension checked. */
  replace: string | undefined;
  /** Attempts already made for this download (by the origin, before a fallback). */
  attemptsBefore: number;
}

/** What one attempt learned that the next one, or the result, needs. */
interface AttemptMemory {
  attempt: number;
  resumedFrom: number;
  contentType: string | undefined;
  /** SHA-256 of an earlier attempt's body that failed the structure check. */
  truncatedSha256: string | undefined;
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

  async run(request: DownloadRequest, source: AttemptSource, signal: AbortSignal): Promise<Fetched> {
    const memory: AttemptMemory = { attempt: source.attemptsBefore, resumedFrom: 0, contentType: undefined, truncatedSha256: undefined };
    const host = source.url === request.requestUrl ? request.host : new URL(source.url).hostname.toLowerCase();
    try {
      const outcome = await this.retryStrategy.run(
        (attempt) => {
          memory.attempt = source.attemptsBefore + attempt;
          return this.attempt(request, source, host, memory, signal);
        },
        { signal, onRetry: (notice) => this.reporter.retrying(request, memory.attempt, notice.delayMs, toDownloadError(notice.error, source.url)) },
      );
      return { ok: true, outcome, attempts: memory.attempt, resumedFrom: memory.resumedFrom };
    } catch (error) {
      return { ok: false, error, attempts: memory.attempt, resumedFrom: memory.resumedFrom, contentType: memory.contentType };
    }
  }

  /** One attempt: wait for the rate limiter, move the bytes, verify them. */
  private async attempt(request: DownloadRequest, source: AttemptSource, host: string, memory: AttemptMemory, signal: AbortSignal): Promise<VerifiedOutcome> {
    await this.rateLimiter.acquire(1, { key: host, signal });
    try {
      const observer = new AttemptObserver(request, memory, this.reporter, this.clock, this.config.progressIntervalMs);
      const transferRequest = { url: source.url, host, mediaType: request.mediaType, target: source.partBase, resume: request.resume, verifyContentType: request.verifyContentType, signal };
      const outcome = await this.transfer.run(transferRequest, observer);
      memory.contentType = outcome.contentType;
      return await this.verify(request, source, outcome, memory);
    } catch (error) {
      this.noteRateLimit(request, memory.attempt, host, error);
      throw error;
    }
  }

  /** Judge the complete `.part`; bytes that fail are never kept, not even for a resume. */
  private async verify(request: DownloadRequest, source: AttemptSource, outcome: TransferOutcome, memory: AttemptMemory): Promise<VerifiedOutcome> {
    const bytes = bytesFacts(outcome.probe, outcome.sha256, outcome.byteSize);
    const { detectedFormat } = bytes;
    const nameByContent = request.nameFor?.(detectedFormat, outcome.contentType);
    const name = source.replace ?? nameByContent ?? request.target;
    try {
      const verdict = await this.verifier.verify({
        url: source.url,
        mediaType: request.mediaType,
        contentType: outcome.contentType,
        declaredSize: outcome.declaredSize,
        verifyContentType: request.verifyContentType,
        extension: path.extname(name).slice(1),
        explicitName: request.nameFor === undefined,
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
      await discardPart(source.partBase);
      throw error;
    }
  }

  /** A 429/503 with Retry-After pauses the whole host, not just this download. */
  private noteRateLimit(request: DownloadRequest, attempt: number, host: string, error: unknown): void {
    if (!(error instanceof HttpStatusError) || error.retryAfterMs === undefined) return;
    if (error.statusCode !== 429 && error.statusCode !== 503) return;
    // Never longer than maxRetryAfter: a hostile "Retry-After: 999999" fails its own item, not the whole host for days.
    const untilMs = this.clock.now() + Math.min(error.retryAfterMs, this.config.retry.maxRetryAfter);
    this.rateLimiter.cooldown(host, untilMs);
    this.reporter.rateLimited(request, attempt, host, untilMs);
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

  resumed(fromByte: number): void {
    this.memory.resumedFrom = fromByte;
    this.reporter.resumed(this.request, this.memory.attempt, fromByte);
  }

  partKept(part: string): Promise<void> {
    return this.reporter.partKept(this.request, part);
  }
}

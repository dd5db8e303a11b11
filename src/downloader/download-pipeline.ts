import { access } from 'node:fs/promises';
import type { DownloaderConfig } from '../config/downloader-config.js';
import type { DownloadError } from '../errors/download-error.js';
import type { DownloadEvents } from '../events/download-events.js';
import type { HttpClient } from '../http/http-client.js';
import type { DownloadLedger } from '../ledger/download-ledger.js';
import type { DownloadCall, DownloadRequest } from '../model/download-request.js';
import type { DownloadResult } from '../model/download-result.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { RetryStrategy } from '../retry/retry-strategy.js';
import type { Clock } from '../time/clock.js';
import type { Verifier } from '../verify/verifier.js';
import { AttemptRunner } from './attempt-runner.js';
import { toDownloadError } from '../errors/classify-error.js';
import { Fallbacks } from './fallbacks.js';
import type { FetchSucceeded } from './fetch-outcome.js';
import { KeyedTurns } from '../concurrency/keyed-turns.js';
import { discardPart, partPaths } from './disk/part-file.js';
import type { DownloadTarget } from './download-target.js';
import type { Reservation } from './disk/path-reservations.js';
import { PartIndex } from './disk/part-index.js';
import { Placement, type SealedOutcome } from './disk/placement.js';
import { Reporter, type Failure } from './reporter.js';
import { SlotScheduler } from './scheduler.js';
import { Semaphore } from '../concurrency/semaphore.js';
import { SkipPolicy } from './skip-policy.js';
import { TolerantLedger } from '../ledger/tolerant-ledger.js';
import { Transfer } from './transfer/transfer.js';
import type { BandwidthLimiter } from '../rate-limit/bandwidth-limiter.js';
import type { ArchiveRecorder } from '../archive/archive-recorder.js';
import type { MediaStore } from '../store/media-store.js';

/** The services the default stages are built from (the downloader's injected ones). */
export interface PipelineServices {
  config: DownloaderConfig;
  http: HttpClient;
  rateLimiter: RateLimiter;
  bandwidth: BandwidthLimiter;
  retryStrategy: RetryStrategy;
  verifier: Verifier;
  events: DownloadEvents;
  clock: Clock;
  ledger: DownloadLedger;
  /** Keeps the HTTP exchanges of what is saved or missing (a WARC), or nothing. */
  recorder: ArchiveRecorder;
  /** Where verified files are kept: the output folder, or a bucket. */
  store: MediaStore;
}

/** The stages a download passes through, each a value in, a value out. */
export interface PipelineStages {
  scheduler: SlotScheduler;
  skipPolicy: SkipPolicy;
  fallbacks: Fallbacks;
  placement: Placement;
  reporter: Reporter;
  /** Finished `.part` files that may wait for their fsync at once (each holds a descriptor). */
  sealConcurrency: number;
}

/**
 * One download from request to result:
 * skip? → schedule (host, then global slot) → reserve a name → attempts and fallbacks → give the slot
 * back → seal (fsync) → place → report.
 * Each stage returns a value; only the {@link Reporter} publishes events and writes the ledger.
 */
export class DownloadPipeline {
  /** One download of a URL at a time: a URL listed twice is fetched once, the second finds it saved. */
  private readonly urlTurns = new KeyedTurns();
  /** Turns to make a finished `.part` durable, once its network slot is given back. */
  private readonly sealSlots: Semaphore;

  constructor(private readonly stages: PipelineStages) {
    this.sealSlots = new Semaphore(stages.sealConcurrency);
  }

  /** The default stages, built from the downloader's services. */
  static assemble(services: PipelineServices): DownloadPipeline {
    const { config, http, rateLimiter, retryStrategy, verifier, events, clock } = services;
    const ledger = new TolerantLedger(services.ledger);
    const reporter = new Reporter(config, events, ledger, clock, services.recorder, services.store);
    const parts = new PartIndex();
    const transfer = new Transfer(http, verifier, config, clock, parts, services.bandwidth);
    const runner = new AttemptRunner(config, transfer, rateLimiter, retryStrategy, verifier, clock, reporter);
    return new DownloadPipeline({
      scheduler: new SlotScheduler(config.maxConcurrent, config.perHostConcurrency),
      skipPolicy: new SkipPolicy(config, ledger, verifier, services.store),
      fallbacks: new Fallbacks(config, http, retryStrategy, clock, runner),
      // `--force` (skipCompleted off) asks for a second copy even of bytes already at the name.
      placement: new Placement(services.store, config.ledger.dedupe, ledger, parts, config.ledger.skipCompleted),
      reporter,
      sealConcurrency: config.maxConcurrent,
    });
  }

  /** A call whose input was refused before any request: reported, nothing written or recorded. */
  refuse(call: DownloadCall, error: DownloadError): Promise<DownloadResult> {
    return this.stages.reporter.failed(call, { error, attempts: 0, resumedFrom: 0 });
  }

  async run(request: DownloadRequest, signal: AbortSignal): Promise<DownloadResult> {
    const { skipPolicy, reporter } = this.stages;
    reporter.queued(request);
    const endTurn = await this.urlTurns.take(request.url);
    try {
      const onDisk = await skipPolicy.decide(request);
      if (onDisk.kind === 'kept') {
        await this.stages.placement.clearLeftovers(onDisk.filename);
        // The `.part` was staged under the name first reserved; the file may have been named otherwise (by its
        // bytes' format, a suffix, a twin). A run killed before that `.part` went left it there.
        if (request.intendedPath !== onDisk.filename) await this.stages.placement.clearLeftovers(request.intendedPath);
        return await reporter.skipped(request, onDisk);
      }
      return await this.download(request, onDisk.kind === 'damaged' ? onDisk.replaces : undefined, signal);
    } finally {
      endTurn();
    }
  }

  private async download(request: DownloadRequest, replaces: string | undefined, signal: AbortSignal): Promise<DownloadResult> {
    const { scheduler, fallbacks, placement, reporter } = this.stages;
    let leave: (() => void) | undefined;
    let reservation: Reservation | undefined;
    try {
      leave = await scheduler.enter(request.host, signal, request.priority);
      reservation = await placement.reserve(request, replaces);
      reporter.started(request);
      const target: DownloadTarget = { partBase: reservation.path, replaces };
      const fetched = await fallbacks.fetch(request, target, signal);
      if (!fetched.ok) {
        const { attempts, resumedFrom, contentType } = fetched;
        // No transfer ran (aborted while waiting for the rate limiter): a .part an earlier run left is still there.
        const partKept = fetched.partKept ?? (await fileExists(partPaths(target.partBase).part));
        return await this.fail(request, fetched.error, signal, { attempts, resumedFrom, contentType, partKept });
      }
      reporter.verified(request, fetched);
      // The bytes are in: the network slot goes to the next download while the disk writes these back.
      // At most maxConcurrent wait for their fsync, each holding a descriptor: a slow disk slows the
      // downloads down instead of piling up open files.
      const endSealTurn = await this.sealSlots.acquire();
      leave();
      leave = undefined;
      const placing = reservation;
      reservation = undefined;
      return await this.place(request, placing, target, fetched, endSealTurn, signal);
    } catch (error) {
      // Waiting for a slot was aborted, or the disk refused a name: nothing was fetched.
      return await this.fail(request, error, signal, { attempts: 0, resumedFrom: 0 });
    } finally {
      reservation?.release();
      leave?.();
    }
  }

  /**
   * Make verified bytes durable, give them their name and report them; a seal or a placement the disk
   * refuses is this download's failure, and its `.part` goes.
   */
  private async place(
    request: DownloadRequest,
    reservation: Reservation,
    target: DownloadTarget,
    fetched: FetchSucceeded,
    endSealTurn: () => void,
    signal: AbortSignal,
  ): Promise<DownloadResult> {
    const { placement, reporter, skipPolicy } = this.stages;
    const { attempts, resumedFrom, outcome } = fetched;
    const trail = { attempts, resumedFrom, contentType: outcome.contentType };
    let sealed: SealedOutcome;
    try {
      sealed = { outcome, mtimeMs: await outcome.part.seal().finally(endSealTurn) };
    } catch (error) {
      reservation.release();
      await discardPart(target.partBase);
      return await this.fail(request, error, signal, trail);
    }
    try {
      return await placement.place(
        reservation,
        target,
        sealed,
        async (placed) => {
          const result = await reporter.completed(request, fetched, placed, target.replaces !== undefined);
          skipPolicy.saved(request.url);
          return result;
        },
        signal,
      );
    } catch (error) {
      return await this.fail(request, error, signal, trail);
    }
  }

  /** Report a failure with what the attempts learned; `error` is whatever was thrown, made a coded error here. */
  private fail(request: DownloadRequest, error: unknown, signal: AbortSignal, trail: Omit<Failure, 'error'>): Promise<DownloadResult> {
    return this.stages.reporter.failed(request, { ...trail, error: toDownloadError(error, request.requestUrl, signal) });
  }
}

/** Whether a file exists (asked only on the rare failure that no transfer decided). */
function fileExists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

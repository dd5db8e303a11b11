import { inject, injectable } from 'inversify';
import { DOWNLOADER_DEFAULTS } from '../config/downloader-config.js';
import { DownloadError } from '../errors/download-error.js';
import { Clock, SystemClock } from '../time/clock.js';
import { isRetryable } from './is-retryable.js';
import { RetryOptions } from './retry-options.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link RetryStrategy} service. */
export const RetryStrategy: ServiceToken<RetryStrategy> = serviceToken('RetryStrategy');

/** What the strategy knows when an attempt has failed. */
export interface RetryContext {
  /** Number of the attempt that just failed, from 1. */
  attempt: number;
  /** Why it failed. */
  error: unknown;
  /** Delay the server asked for (Retry-After), in ms. */
  retryAfterMs?: number;
}

/** The strategy's verdict: wait and try again, or stop. */
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: string };

/** Reported before each sleep, so listeners know what is coming and for how long. */
export interface RetryNotice extends RetryContext {
  /** How long the runner will sleep before the next attempt. */
  delayMs: number;
}

/** Options of {@link RetryStrategy.run}. */
export interface RunOptions {
  /** Aborts the sleep and stops retrying. */
  signal?: AbortSignal;
  /** Called before each sleep. A throwing callback does not stop the retry. */
  onRetry?: (notice: RetryNotice) => void;
  /** Reads the server's Retry-After (ms) off an error. @default `error.retryAfterMs` */
  retryAfterOf?: (error: unknown) => number | undefined;
}

/** Decides whether and when to try again, and runs functions with that policy. */
export interface RetryStrategy {
  /** Pure: the delay before the next attempt, or why there is none. */
  computeDelay(context: RetryContext): RetryDecision;
  /** Run `fn(attempt, signal)` until it succeeds or the strategy gives up; the last error is thrown. */
  run<T>(fn: (attempt: number, signal?: AbortSignal) => Promise<T>, options?: RunOptions): Promise<T>;
  /** Seed-compatible form: `execute(fn, ...args)` retries `fn(...args)`. */
  execute<A extends unknown[], T>(fn: (...args: A) => Promise<T> | T, ...args: A): Promise<T>;
}

/**
 * Exponential backoff, `baseBackoff · 2^(attempt−1)` capped at `maxBackoff`, with
 * "equal jitter" (half fixed, half random) so that many clients that failed
 * together do not come back together. A Retry-After is obeyed as given; one
 * longer than `maxRetryAfter` makes the strategy give up rather than wait.
 */
@injectable()
export class ExponentialBackoffRetryStrategy implements RetryStrategy {
  private readonly options: Required<RetryOptions>;

  /**
   * @param options `{maxRetries, baseBackoff, maxBackoff}` as in the seed, plus optional extras
   * @param clock time source for the sleeps @default SystemClock
   */
  constructor(
    @inject(RetryOptions) options: Partial<RetryOptions> = {},
    @inject(Clock) private readonly clock: Clock = new SystemClock(),
  ) {
    this.options = {
      maxRetries: options.maxRetries ?? DOWNLOADER_DEFAULTS.retry.maxRetries,
      baseBackoff: options.baseBackoff ?? DOWNLOADER_DEFAULTS.retry.baseBackoff,
      maxBackoff: options.maxBackoff ?? DOWNLOADER_DEFAULTS.retry.maxBackoff,
      maxRetryAfter: options.maxRetryAfter ?? DOWNLOADER_DEFAULTS.retry.maxRetryAfter,
      shouldRetry: options.shouldRetry ?? isRetryable,
      random: options.random ?? Math.random,
    };
    for (const key of ['maxRetries', 'baseBackoff', 'maxBackoff', 'maxRetryAfter'] as const) {
      const value = this.options[key];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new DownloadError('INVALID_CONFIG', `Invalid retry options: ${key} must be a finite number ≥ 0, got ${JSON.stringify(value)}`);
      }
    }
  }

  computeDelay({ attempt, error, retryAfterMs }: RetryContext): RetryDecision {
    if (attempt > this.options.maxRetries) return { retry: false, reason: `gave up after ${attempt} attempts` };
    if (!this.options.shouldRetry(error)) return { retry: false, reason: 'error is not retryable' };
    if (retryAfterMs !== undefined) {
      if (retryAfterMs > this.options.maxRetryAfter) {
        return { retry: false, reason: `server asked to wait ${retryAfterMs} ms, more than maxRetryAfter ${this.options.maxRetryAfter} ms` };
      }
      return { retry: true, delayMs: retryAfterMs };
    }
    const exponential = Math.min(this.options.maxBackoff, this.options.baseBackoff * 2 ** (attempt - 1));
    const half = exponential / 2;
    return { retry: true, delayMs: Math.round(half + this.options.random() * half) };
  }

  async run<T>(fn: (attempt: number, signal?: AbortSignal) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { signal } = options;
    const retryAfterOf = options.retryAfterOf ?? defaultRetryAfterOf;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await fn(attempt, signal);
      } catch (error) {
        if (signal?.aborted) throw error;
        const context: RetryContext = { attempt, error, retryAfterMs: retryAfterOf(error) };
        const decision = this.computeDelay(context);
        if (!decision.retry) throw error;
        try {
          options.onRetry?.({ ...context, delayMs: decision.delayMs });
        } catch {
          // A faulty observer must not change the outcome of the download.
        }
        await this.clock.sleep(decision.delayMs, signal);
      }
    }
  }

  execute<A extends unknown[], T>(fn: (...args: A) => Promise<T> | T, ...args: A): Promise<T> {
    return this.run(async () => fn(...args));
  }
}

function defaultRetryAfterOf(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' ? value : undefined;
}

import { inject, injectable } from 'inversify';
import { DOWNLOADER_DEFAULTS } from '../config/downloader-config.js';
import { park, type Parked } from '../concurrency/abortable-queue.js';
import { wakeableSleep } from '../time/wakeable-sleep.js';
import { Cooldowns } from './cooldowns.js';
import { Clock, SystemClock } from '../time/clock.js';
import { checkRateOptions, RateLimiterOptions } from './rate-limiter-options.js';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link RateLimiter} service. */
export const RateLimiter: ServiceToken<RateLimiter> = serviceToken('RateLimiter');

/** Options of one {@link RateLimiter.acquire} call. */
export interface AcquireOptions {
  /** Who is asked: the host name. @default 'global' */
  key?: string;
  /** Gives up waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Paces requests so that servers are respected. */
export interface RateLimiter {
  /**
   * Wait until `n` request tokens for `key` are available, then take them.
   * Waiters are served in arrival order.
   */
  acquire(n?: number, options?: AcquireOptions): Promise<void>;
  /**
   * No request to `key` may start before `untilMs` (epoch ms): a 429/503 with
   * Retry-After pauses every waiting and future request to that host. A later
   * deadline extends the pause; an earlier one never shortens it.
   */
  cooldown(key: string, untilMs: number): void;
  /** Epoch ms before which `key` is paused, or `undefined`. */
  cooldownUntil(key: string): number | undefined;
}

interface Waiter extends Parked {
  n: number;
  key: string;
  resolve: () => void;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
  queue: Waiter[];
  pumping: boolean;
  /** Aborting it wakes the pump early, so a newcomer for a host that is not cooling down is not held up. */
  wake: AbortController | undefined;
}

const GLOBAL_KEY = 'global';

/**
 * Token bucket: `requestsPerSecond` tokens refill continuously up to `burst`.
 * One bucket per key (host) or one shared bucket (`scope: 'global'`); cooldowns
 * are always per key, and a waiter whose host is cooling down does not block
 * waiters for other hosts in a shared bucket.
 */
@injectable()
export class TokenBucketRateLimiter implements RateLimiter {
  private readonly options: RateLimiterOptions;
  private readonly buckets = new Map<string, Bucket>();
  private readonly cooldowns: Cooldowns;

  /**
   * @param options rate settings, or just the rate (requests per second) as in `new TokenBucketRateLimiter(5)`
   * @param clock time source @default SystemClock
   */
  constructor(
    @inject(RateLimiterOptions) options: Partial<RateLimiterOptions> | number,
    @inject(Clock) private readonly clock: Clock = new SystemClock(),
  ) {
    const given = typeof options === 'number' ? { requestsPerSecond: options } : options;
    const requestsPerSecond = given.requestsPerSecond ?? DOWNLOADER_DEFAULTS.rateLimit.requestsPerSecond;
    const burst = given.burst ?? Math.max(1, Math.ceil(requestsPerSecond));
    checkRateOptions(requestsPerSecond, burst);
    this.options = { requestsPerSecond, burst, scope: given.scope ?? DOWNLOADER_DEFAULTS.rateLimit.scope };
    this.cooldowns = new Cooldowns(clock);
  }

  acquire(n = 1, options: AcquireOptions = {}): Promise<void> {
    const key = options.key ?? GLOBAL_KEY;
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!(n > 0) || n > this.options.burst) {
      // More than the bucket holds could never be granted: that is a caller bug, not a wait.
      return Promise.reject(new RangeError(`Cannot acquire ${n} tokens from a bucket of ${this.options.burst}`));
    }
    const bucket = this.bucketFor(key);
    return new Promise<void>((resolve, reject) => {
      park(bucket.queue, { n, key, resolve }, signal, reject);
      bucket.wake?.abort();
      void this.pump(bucket);
    });
  }

  cooldown(key: string, untilMs: number): void {
    this.cooldowns.note(key, untilMs);
  }

  cooldownUntil(key: string): number | undefined {
    return this.cooldowns.pausedUntil(key);
  }

  private bucketFor(key: string): Bucket {
    const bucketKey = this.options.scope === 'global' ? GLOBAL_KEY : key;
    let bucket = this.buckets.get(bucketKey);
    if (!bucket) {
      bucket = { tokens: this.options.burst, refilledAt: this.clock.now(), queue: [], pumping: false, wake: undefined };
      this.buckets.set(bucketKey, bucket);
    }
    return bucket;
  }

  /** Serve the queue in order; one pump per bucket sleeps until the next grant is possible. */
  private async pump(bucket: Bucket): Promise<void> {
    if (bucket.pumping) return;
    bucket.pumping = true;
    try {
      while (bucket.queue.length > 0) {
        const now = this.clock.now();
        this.refill(bucket, now);
        const ready = bucket.queue.find((w) => this.cooldownUntil(w.key) === undefined);
        if (!ready) {
          await wakeableSleep(this.clock, bucket, this.cooldowns.earliestEnd(bucket.queue.map((w) => w.key)) - now);
          continue;
        }
        if (this.options.requestsPerSecond === 0 || bucket.tokens >= ready.n) {
          if (this.options.requestsPerSecond !== 0) bucket.tokens -= ready.n;
          bucket.queue.splice(bucket.queue.indexOf(ready), 1);
          ready.detach();
          ready.resolve();
          continue;
        }
        const waitMs = ((ready.n - bucket.tokens) / this.options.requestsPerSecond) * 1000;
        await wakeableSleep(this.clock, bucket, Math.ceil(waitMs));
      }
    } finally {
      bucket.pumping = false;
    }
  }

  private refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.refilledAt);
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (elapsed / 1000) * this.options.requestsPerSecond);
    bucket.refilledAt = now;
  }
}

import { inject, injectable } from 'inversify';
import type { Redis } from 'ioredis';
import { DownloadError } from '../errors/download-error.js';
import type { AcquireOptions, RateLimiter } from '../rate-limit/rate-limiter.js';
import { checkRateOptions } from '../rate-limit/rate-limiter-options.js';
import { serviceToken, type ServiceToken } from '../service-token.js';
import { park, type Parked } from '../concurrency/abortable-queue.js';
import { wakeableSleep } from '../time/wakeable-sleep.js';
import { Clock } from '../time/clock.js';
import { COOL_DOWN, TAKE_TOKENS } from './shared-bucket-scripts.js';
import { Cooldowns } from '../rate-limit/cooldowns.js';

/** Token of the {@link RedisRateLimiterOptions}. */
export const RedisRateLimiterOptions: ServiceToken<RedisRateLimiterOptions> = serviceToken('RedisRateLimiterOptions');

/** Where the shared buckets live and how fast they refill. */
export interface RedisRateLimiterOptions {
  /** A connected ioredis client; the limiter never closes it. */
  redis: Redis;
  /** Key prefix: every process that uses the same prefix shares the same buckets and cooldowns. */
  prefix: string;
  /** Requests per second per bucket, all processes together; `0` turns the rate off (cooldowns still apply). */
  requestsPerSecond: number;
  /** Requests that may start at once after a quiet period. */
  burst: number;
  /** One bucket per host, or one for every host. Cooldowns are per host either way. */
  scope: 'host' | 'global';
}

interface Waiter extends Parked {
  n: number;
  host: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface LocalQueue {
  waiters: Waiter[];
  pumping: boolean;
  wake: AbortController | undefined;
}

/** The scripts as ioredis commands (sent once, then called by their SHA). */
interface BucketCommands {
  tumblrDlTake(bucket: string, cooldown: string, rate: number, burst: number, fewest: number, most: number): Promise<[number, number, number]>;
  tumblrDlCool(cooldown: string, ms: number): Promise<number>;
}

/**
 * A {@link RateLimiter} whose token buckets and 429/503 cooldowns live in Redis, so every worker of a queue,
 * on any machine, shares one request rate per host and one pause: a `Retry-After` seen by one worker holds
 * them all. The bucket is a Lua script on Redis's clock (see `shared-bucket-scripts.ts`).
 *
 * Within a process, waiters are served in arrival order by one loop per bucket, and one call to Redis
 * serves every waiter of the same host that is there at the time (as many as the bucket holds tokens
 * for): at 16 downloads at once, a grant costs a fraction of a round trip, not one each. Across processes the order is whoever asks first after
 * a refill: fair enough for a rate shared by equals, and it needs no coordination beyond the script.
 *
 * Bind it in place of the default: `container.rebind(RateLimiter).to(RedisRateLimiter)` with
 * {@link RedisRateLimiterOptions} bound to a constant (the `worker` command does exactly this).
 */
@injectable()
export class RedisRateLimiter implements RateLimiter {
  private readonly commands: BucketCommands;
  private readonly queues = new Map<string, LocalQueue>();
  /** What this process knows of each host's pause, on its own clock: from its own cooldowns and from Redis's answers. */
  private readonly cooldowns: Cooldowns;
  /** Cooldowns still on their way to Redis: an acquire for that host waits for them first. */
  private readonly sending = new Map<string, Promise<unknown>>();

  constructor(
    @inject(RedisRateLimiterOptions) private readonly options: RedisRateLimiterOptions,
    @inject(Clock) private readonly clock: Clock,
  ) {
    checkRateOptions(options.requestsPerSecond, options.burst);
    this.cooldowns = new Cooldowns(clock);
    const redis = options.redis as Redis & Partial<BucketCommands>;
    if (!redis.tumblrDlTake) redis.defineCommand('tumblrDlTake', { numberOfKeys: 2, lua: TAKE_TOKENS });
    if (!redis.tumblrDlCool) redis.defineCommand('tumblrDlCool', { numberOfKeys: 1, lua: COOL_DOWN });
    this.commands = redis as unknown as BucketCommands;
  }

  acquire(n = 1, options: AcquireOptions = {}): Promise<void> {
    const host = options.key ?? 'global';
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!(n > 0) || n > this.options.burst) return Promise.reject(new RangeError(`Cannot acquire ${n} tokens from a bucket of ${this.options.burst}`));
    const queue = this.queueFor(host);
    return new Promise<void>((resolve, reject) => {
      park(queue.waiters, { n, host, resolve, reject }, signal, reject);
      queue.wake?.abort();
      void this.pump(queue, this.bucketKey(host));
    });
  }

  cooldown(key: string, untilMs: number): void {
    this.cooldowns.note(key, untilMs);
    const ms = untilMs - this.clock.now();
    if (ms <= 0) return;
    // Sent as a duration, so the pause lasts as long on Redis's clock whatever this machine's clock says.
    const sent = this.commands
      .tumblrDlCool(this.coolKey(key), ms)
      .catch(() => undefined)
      .finally(() => {
        if (this.sending.get(key) === sent) this.sending.delete(key);
      });
    this.sending.set(key, sent);
  }

  cooldownUntil(key: string): number | undefined {
    return this.cooldowns.pausedUntil(key);
  }

  private bucketKey(host: string): string {
    return `${this.options.prefix}:rate:${this.options.scope === 'global' ? '*' : host}`;
  }

  private coolKey(host: string): string {
    return `${this.options.prefix}:cool:${host}`;
  }

  private queueFor(host: string): LocalQueue {
    const key = this.bucketKey(host);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { waiters: [], pumping: false, wake: undefined };
      this.queues.set(key, queue);
    }
    return queue;
  }

  /** Serve the local queue in order, skipping hosts known to be paused; one loop per bucket. */
  private async pump(queue: LocalQueue, bucket: string): Promise<void> {
    if (queue.pumping) return;
    queue.pumping = true;
    try {
      while (queue.waiters.length > 0) {
        const ready = queue.waiters.find((w) => this.cooldownUntil(w.host) === undefined);
        if (!ready) {
          await wakeableSleep(this.clock, queue, this.cooldowns.earliestEnd(queue.waiters.map((w) => w.host)) - this.clock.now());
          continue;
        }
        // The waiters served together: every one of the chosen host asking for one token, in order, as many
        // as a full bucket holds (all of them with no rate); a waiter asking for more is served alone, all or nothing.
        const most = this.options.requestsPerSecond === 0 ? Infinity : this.options.burst;
        const batch = ready.n === 1 ? queue.waiters.filter((w) => w.host === ready.host && w.n === 1).slice(0, most) : [ready];
        let answer: [number, number, number];
        try {
          await this.sending.get(ready.host);
          answer = await this.commands.tumblrDlTake(
            bucket,
            this.coolKey(ready.host),
            this.options.requestsPerSecond,
            this.options.burst,
            ready.n,
            ready.n === 1 ? batch.length : ready.n,
          );
        } catch (error) {
          this.leave(queue, ready);
          ready.reject(new DownloadError('NETWORK_ERROR', `Shared rate limit unavailable (Redis): ${(error as Error).message}`, { cause: error }));
          continue;
        }
        const [taken, waitMs, cooling] = answer;
        if (taken > 0) {
          // Waiters that left (aborted) while Redis answered leave their tokens unused: a few, never a burst.
          for (const waiter of batch.slice(0, ready.n === 1 ? taken : 1)) {
            if (!queue.waiters.includes(waiter)) continue;
            this.leave(queue, waiter);
            waiter.resolve();
          }
        } else if (cooling === 1) {
          // Another worker's 429: remember it here, so this loop serves other hosts meanwhile.
          this.cooldowns.note(ready.host, this.clock.now() + waitMs);
        } else {
          await wakeableSleep(this.clock, queue, waitMs);
        }
      }
    } finally {
      queue.pumping = false;
    }
  }

  private leave(queue: LocalQueue, waiter: Waiter): void {
    const at = queue.waiters.indexOf(waiter);
    if (at >= 0) queue.waiters.splice(at, 1);
    waiter.detach();
  }
}

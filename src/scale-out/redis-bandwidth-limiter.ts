import { inject, injectable } from 'inversify';
import type { Redis } from 'ioredis';
import { park, type Parked } from '../concurrency/abortable-queue.js';
import { DownloadError } from '../errors/download-error.js';
import type { BandwidthLimiter, TakeBytesOptions } from '../rate-limit/bandwidth-limiter.js';
import { serviceToken, type ServiceToken } from '../service-token.js';
import { Clock } from '../time/clock.js';
import { LEASE_BYTES } from './shared-bucket-scripts.js';

/** Token of the {@link RedisBandwidthOptions}. */
export const RedisBandwidthOptions: ServiceToken<RedisBandwidthOptions> = serviceToken('RedisBandwidthOptions');

/** Where the shared byte budgets live and how fast they pay out. */
export interface RedisBandwidthOptions {
  /** A connected ioredis client; the limiter never closes it. */
  redis: Redis;
  /** Key prefix: every process that uses the same prefix shares the same budgets. */
  prefix: string;
  /** All downloads of every process together, in bytes per second; `0` means no overall cap. */
  bytesPerSecond: number;
  /** Each host, every process together, in bytes per second; `0` means no per-host cap. */
  perHostBytesPerSecond: number;
}

/** As the in-process limiter: bytes may run this far ahead of the cap, and no further. */
const AHEAD_MS = 200;
/**
 * A lease is this long's worth of the cap (or the chunk asked for, when that is more). Long enough that a busy
 * process asks Redis about ten times a second rather than once per chunk; short enough that a lease is a small
 * part of what several processes share, and what it can add to a window is a few per cent of ten seconds.
 */
const LEASE_MS = 100;
/**
 * Bytes leased but left with nobody to take them are dropped after this long. Each host's budget may hold some
 * (a download that ended mid-lease); kept for ever, the leftovers of many hosts could be spent all at once later
 * and break the overall cap for a while. Dropped, they are only bandwidth paid for and not used.
 */
const CREDIT_KEPT_MS = 500;
/** Past this many budgets, those nobody waits on are forgotten (a long archive meets many hosts). */
const BUDGETS_KEPT = 1_000;

interface Taker extends Parked {
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** One local budget: the whole process's when only the overall cap applies, else one per host. */
interface Budget {
  /** The host's schedule in Redis, or `undefined` for the overall one alone. */
  host: string | undefined;
  takers: Taker[];
  /** Bytes leased, due, and not given out yet. */
  credit: number;
  /** When `credit` is dropped, on the local clock (see {@link CREDIT_KEPT_MS}). */
  creditUntil: number;
  /** The usual lease: `LEASE_MS` (100 ms) of the smallest cap that applies. */
  leaseBytes: number;
  pumping: boolean;
}

/** The script as an ioredis command (sent once, then called by its SHA). */
interface LeaseCommands {
  tumblrDlLeaseBytes(overall: string, host: string, bytesPerSecond: number, hostBytesPerSecond: number, bytes: number, aheadMs: number): Promise<number>;
}

/**
 * A {@link BandwidthLimiter} whose budgets live in Redis, so every worker of a queue, on any machine, shares
 * one `--limit-rate` and one `--limit-rate-per-host`. Redis keeps a schedule per budget on its own clock
 * (`LEASE_BYTES` in `shared-bucket-scripts.ts`), the same arithmetic as the in-process `SmoothBandwidthLimiter`.
 *
 * Bytes are not asked for chunk by chunk: a process leases about `LEASE_MS` (100 ms) of the cap at a time,
 * waits until Redis says the lease is due, and gives it out to its takers in arrival order. One call
 * to Redis serves every chunk the lease covers; bytes left over go to the next takers, since they are paid for.
 * Across processes, leases are paid for in the order they reached Redis, so busy processes share the cap
 * evenly. A process killed holding a lease wastes at most that lease.
 *
 * Bind it in place of the default: `container.rebind(BandwidthLimiter).to(RedisBandwidthLimiter)` with
 * {@link RedisBandwidthOptions} bound to a constant (the `worker` command does this when a cap is set).
 */
@injectable()
export class RedisBandwidthLimiter implements BandwidthLimiter {
  readonly capped: boolean;
  private readonly commands: LeaseCommands;
  private readonly budgets = new Map<string, Budget>();

  constructor(
    @inject(RedisBandwidthOptions) private readonly options: RedisBandwidthOptions,
    @inject(Clock) private readonly clock: Clock,
  ) {
    for (const key of ['bytesPerSecond', 'perHostBytesPerSecond'] as const) {
      const value: unknown = options[key];
      if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
        throw new DownloadError('INVALID_CONFIG', `Invalid bandwidth options: ${key} must be a number of bytes per second ≥ 0, got ${JSON.stringify(value)}`);
      }
    }
    this.capped = options.bytesPerSecond > 0 || options.perHostBytesPerSecond > 0;
    const redis = options.redis as Redis & Partial<LeaseCommands>;
    // Defining a command sends nothing: an uncapped limiter never talks to Redis.
    if (!redis.tumblrDlLeaseBytes) redis.defineCommand('tumblrDlLeaseBytes', { numberOfKeys: 2, lua: LEASE_BYTES });
    this.commands = redis as unknown as LeaseCommands;
  }

  take(bytes: number, options: TakeBytesOptions = {}): Promise<void> {
    if (!this.capped || bytes <= 0) return Promise.resolve();
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const host = this.options.perHostBytesPerSecond > 0 ? options.key : undefined;
    // Only a per-host cap and no host named: nothing applies, as in the in-process limiter.
    if (host === undefined && this.options.bytesPerSecond === 0) return Promise.resolve();
    const budget = this.budgetFor(host);
    // The hot path, a chunk the lease already covers: no queue, no Redis.
    if (budget.takers.length === 0 && this.spend(budget, bytes)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      park(budget.takers, { bytes, resolve, reject }, signal, reject);
      void this.pump(budget);
    });
  }

  private budgetFor(host: string | undefined): Budget {
    const name = host ?? '*';
    let budget = this.budgets.get(name);
    if (!budget) {
      if (this.budgets.size >= BUDGETS_KEPT) this.forgetIdle();
      const rates = [this.options.bytesPerSecond, host === undefined ? 0 : this.options.perHostBytesPerSecond].filter((rate) => rate > 0);
      budget = { host, takers: [], credit: 0, creditUntil: 0, leaseBytes: (Math.min(...rates) * LEASE_MS) / 1000, pumping: false };
      this.budgets.set(name, budget);
    }
    return budget;
  }

  /** Give `bytes` out of the budget's credit if it holds that many, once credit left idle too long is dropped. */
  private spend(budget: Budget, bytes: number): boolean {
    if (budget.credit > 0 && this.clock.now() > budget.creditUntil) budget.credit = 0;
    if (budget.credit < bytes) return false;
    budget.credit -= bytes;
    return true;
  }

  /** Serve the budget's takers in order, leasing from Redis whenever the first one needs more; one loop per budget. */
  private async pump(budget: Budget): Promise<void> {
    if (budget.pumping) return;
    budget.pumping = true;
    try {
      while (budget.takers.length > 0) {
        const first = budget.takers[0]!;
        if (this.spend(budget, first.bytes)) {
          this.leave(budget, first);
          first.resolve();
          continue;
        }
        const lease = Math.max(budget.leaseBytes, first.bytes - budget.credit);
        let waitMs: number;
        try {
          waitMs = await this.lease(budget.host, lease);
        } catch (error) {
          // Every taker here was waiting on this lease; failing them all beats one failed call each. Never uncapped.
          const failure = new DownloadError('NETWORK_ERROR', `Shared bandwidth cap unavailable (Redis): ${(error as Error).message}`, { cause: error });
          for (const taker of budget.takers.splice(0)) {
            taker.detach();
            taker.reject(failure);
          }
          continue;
        }
        // Not abortable: the lease is paid for whoever is left to use it (a taker that aborts has already left the queue).
        // Credit carried over the wait is not stale: it was kept for the takers here, not left idle.
        if (waitMs > 0) await this.clock.sleep(waitMs);
        budget.credit += lease;
        budget.creditUntil = this.clock.now() + CREDIT_KEPT_MS;
      }
    } finally {
      budget.pumping = false;
    }
  }

  /** Lease `bytes` from the overall schedule and the host's (those that are capped); resolves with the ms to wait. */
  private lease(host: string | undefined, bytes: number): Promise<number> {
    const overall = `${this.options.prefix}:bytes:*`;
    // No host schedule: its rate goes as 0, so the script never touches the key passed in its place.
    const hostKey = host === undefined ? overall : `${this.options.prefix}:bytes:${host}`;
    const hostRate = host === undefined ? 0 : this.options.perHostBytesPerSecond;
    return this.commands.tumblrDlLeaseBytes(overall, hostKey, this.options.bytesPerSecond, hostRate, bytes, AHEAD_MS);
  }

  private leave(budget: Budget, taker: Taker): void {
    const at = budget.takers.indexOf(taker);
    if (at >= 0) budget.takers.splice(at, 1);
    taker.detach();
  }

  /** Forget budgets nobody waits on; their leftover credit, if any, is simply not used. */
  private forgetIdle(): void {
    for (const [name, budget] of this.budgets) if (budget.takers.length === 0 && !budget.pumping) this.budgets.delete(name);
  }
}

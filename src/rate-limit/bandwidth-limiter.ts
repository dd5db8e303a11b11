import { inject, injectable } from 'inversify';
import type { BandwidthConfig } from '../config/downloader-config.js';
import { DownloadError } from '../errors/download-error.js';
import { serviceToken, type ServiceToken } from '../service-token.js';
import { Clock } from '../time/clock.js';

/** Token of the {@link BandwidthLimiter} service. */
export const BandwidthLimiter: ServiceToken<BandwidthLimiter> = serviceToken('BandwidthLimiter');

/** Token of the options the default {@link BandwidthLimiter} is built with (the config's `bandwidth`). */
export const BandwidthOptions: ServiceToken<BandwidthConfig> = serviceToken('BandwidthOptions');

/** Options of one {@link BandwidthLimiter.take} call. */
export interface TakeBytesOptions {
  /** The host the bytes come from, for a per-host cap. */
  key?: string;
  /** Gives up waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Caps how fast response bodies are read, overall and per host (curl's `--limit-rate`, aria2's `--max-overall-download-limit`). */
export interface BandwidthLimiter {
  /** Whether any cap applies: without one, the downloader does not pace bodies at all. */
  readonly capped: boolean;
  /**
   * Resolve when `bytes` more may be read from `key`. The body is not read meanwhile, so TCP's own flow
   * control slows the sender: the cap holds on the wire, not only on the disk.
   */
  take(bytes: number, options?: TakeBytesOptions): Promise<void>;
}

/** Bytes may run ahead of the cap by this much time's worth, and no more: the smoothness the cap promises. */
const AHEAD_MS = 200;
/** Past this many hosts, those whose schedule has passed are forgotten (a long archive meets many). */
const HOSTS_KEPT = 1_000;

/**
 * A smooth byte cap: each budget (the whole run, and each host) has a schedule, the time at which the
 * bytes granted so far will have been paid for at its rate (the "generic cell rate" algorithm). A take
 * pushes the schedule on by `bytes / rate` and waits until the schedule is at most 0.2 s ahead
 * of the clock. So no second carries more than the cap plus 0.2 s of it, and callers are served in the
 * order they asked. `0` for a rate means no cap.
 */
@injectable()
export class SmoothBandwidthLimiter implements BandwidthLimiter {
  readonly capped: boolean;
  private overallDue = 0;
  private readonly hostDue = new Map<string, number>();

  constructor(
    @inject(BandwidthOptions) private readonly options: BandwidthConfig,
    @inject(Clock) private readonly clock: Clock,
  ) {
    for (const [key, value] of Object.entries(options)) {
      if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
        throw new DownloadError('INVALID_CONFIG', `Invalid bandwidth options: ${key} must be a number of bytes per second ≥ 0, got ${JSON.stringify(value)}`);
      }
    }
    this.capped = options.bytesPerSecond > 0 || options.perHostBytesPerSecond > 0;
  }

  take(bytes: number, options: TakeBytesOptions = {}): Promise<void> {
    if (!this.capped || bytes <= 0) return Promise.resolve();
    const now = this.clock.now();
    let due = now;
    if (this.options.bytesPerSecond > 0) {
      this.overallDue = Math.max(this.overallDue, now) + (bytes * 1000) / this.options.bytesPerSecond;
      due = Math.max(due, this.overallDue);
    }
    if (this.options.perHostBytesPerSecond > 0 && options.key !== undefined) {
      const hostDue = Math.max(this.hostDue.get(options.key) ?? 0, now) + (bytes * 1000) / this.options.perHostBytesPerSecond;
      this.hostDue.set(options.key, hostDue);
      if (this.hostDue.size > HOSTS_KEPT) this.forgetPast(now);
      due = Math.max(due, hostDue);
    }
    const wait = due - AHEAD_MS - now;
    return wait > 0 ? this.clock.sleep(wait, options.signal) : Promise.resolve();
  }

  private forgetPast(now: number): void {
    for (const [host, due] of this.hostDue) if (due < now) this.hostDue.delete(host);
  }
}

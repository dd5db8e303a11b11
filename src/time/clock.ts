import { injectable } from 'inversify';
import { serviceToken, type ServiceToken } from '../service-token.js';

/** Token of the {@link Clock} service. */
export const Clock: ServiceToken<Clock> = serviceToken('Clock');

/**
 * Source of time for everything that waits: rate limits, backoff, cooldowns.
 * Injected so tests run on virtual time instead of real sleeps.
 */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /**
   * Resolve after `ms` milliseconds; reject with the signal's reason when it aborts first.
   * @param ms delay, values ≤ 0 resolve on the next tick
   * @param signal aborts the wait
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `Date.now` and `setTimeout`. */
@injectable()
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

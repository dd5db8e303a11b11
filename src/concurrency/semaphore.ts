import { park, type Parked } from './abortable-queue.js';

interface Waiter extends Parked {
  resolve: (release: () => void) => void;
  priority: number;
}

/** A counting semaphore whose waiters are served by priority (higher first), then in arrival order; waits are abortable. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`Semaphore capacity must be ≥ 1, got ${capacity}`);
  }

  /** Holders right now. */
  get inUse(): number {
    return this.active;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.waiters.length;
  }

  /** Wait for a slot; resolves with the function that gives it back (idempotent). */
  acquire(signal?: AbortSignal, priority = 0): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.capacity && this.waiters.length === 0) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = park(this.waiters, { resolve, priority }, signal, reject);
      // Behind every waiter of the same or a higher priority: FIFO within a priority. Searched from the end,
      // so a queue of equal priorities (100k calls from a host, say) costs nothing per waiter.
      let at = this.waiters.length - 1; // park() appended it
      while (at > 0 && this.waiters[at - 1]!.priority < priority) at--;
      if (at < this.waiters.length - 1) {
        this.waiters.pop();
        this.waiters.splice(at, 0, waiter);
      }
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiters.shift();
      if (next) {
        // Hand the slot straight to the next waiter: `active` stays the same.
        next.detach();
        next.resolve(this.releaser());
      } else {
        this.active--;
      }
    };
  }
}

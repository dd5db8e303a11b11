import type { Clock } from '../../src/time/clock.js';

interface Sleeper {
  wakeAt: number;
  resolve: () => void;
}

/**
 * Virtual clock for tests. Time moves only through {@link advance}, or, with
 * `autoAdvance`, jumps straight to the wake-up time of each sleep, so code that
 * backs off for minutes finishes at once while every requested delay is recorded.
 */
export class ManualClock implements Clock {
  /** Every delay passed to {@link sleep}, in call order. */
  readonly sleeps: number[] = [];
  private current: number;
  private sleepers: Sleeper[] = [];

  constructor(
    start = 1_700_000_000_000,
    private readonly autoAdvance = false,
  ) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.autoAdvance) {
      this.current += Math.max(0, ms);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = { wakeAt: this.current + Math.max(0, ms), resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Move time forward, waking sleepers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.sleepers.filter((s) => s.wakeAt <= target).sort((a, b) => a.wakeAt - b.wakeAt)[0];
      if (!next) break;
      this.current = Math.max(this.current, next.wakeAt);
      this.sleepers = this.sleepers.filter((s) => s !== next);
      next.resolve();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Number of sleeps not yet woken. */
  get pending(): number {
    return this.sleepers.length;
  }
}

/** Let queued promise continuations run (several hops deep). */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

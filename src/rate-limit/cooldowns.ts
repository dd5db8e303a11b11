import type { Clock } from '../time/clock.js';

/**
 * Per-host pauses (429/503 with Retry-After) as this process knows them: a later deadline extends a pause,
 * an earlier one never shortens it, and a pause that has passed is forgotten when next asked about.
 */
export class Cooldowns {
  private readonly until = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  /** Pause `key` until `untilMs` (epoch ms on the clock), unless it is already paused longer. */
  note(key: string, untilMs: number): void {
    if (untilMs > (this.until.get(key) ?? 0)) this.until.set(key, untilMs);
  }

  /** Epoch ms before which `key` is paused, or `undefined`. */
  pausedUntil(key: string): number | undefined {
    const until = this.until.get(key);
    if (until === undefined) return undefined;
    if (until <= this.clock.now()) {
      this.until.delete(key);
      return undefined;
    }
    return until;
  }

  /** The earliest end among the pauses of `keys` (0 for a key not paused). */
  earliestEnd(keys: Iterable<string>): number {
    return Math.min(...[...keys].map((key) => this.until.get(key) ?? 0));
  }
}

import type { Clock } from './clock.js';

/** Something a loop sleeps on: while it sleeps, `wake` aborts the sleep early. */
export interface Sleeper {
  wake: AbortController | undefined;
}

/**
 * Sleep `ms` on `clock`, unless `sleeper.wake` is aborted first (a newcomer that may be served sooner):
 * either way it resolves, and the loop that slept looks again. The rate limiters' pumps sleep this way.
 */
export async function wakeableSleep(clock: Clock, sleeper: Sleeper, ms: number): Promise<void> {
  const wake = new AbortController();
  sleeper.wake = wake;
  try {
    await clock.sleep(ms, wake.signal);
  } catch {
    // Woken early: the caller's loop re-evaluates.
  } finally {
    sleeper.wake = undefined;
  }
}

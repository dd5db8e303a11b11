/** How long {@link waitUntil} waits, and what for. */
export interface WaitOptions {
  /**
   * Give up after this long. Generous on purpose: it only decides how long a broken run takes to say so,
   * never whether a sound one passes (a loaded machine gets there later, not never).
   * @default 10000
   */
  timeoutMs?: number;
  /** What is waited for, as the end of "timed out after … ms waiting for <what>". */
  what: string;
}

/** How often the predicate is asked again: short, since each look is cheap and the wait is for a condition, not a duration. */
const POLL_MS = 5;

/**
 * Wait until `predicate` holds: for a condition the test cannot be told about by an event (a file on disk,
 * a count in Redis, a child process's progress). The predicate is asked at once, then every few ms of real
 * time; a predicate that throws (or rejects) ends the wait with its error, so it may also check that the
 * run is still alive.
 * @throws Error `timed out after <timeoutMs> ms waiting for <what>` when the condition never held
 * @example await waitUntil(() => server.requests.length === 3, { what: 'three requests at the origin' });
 */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, options: WaitOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

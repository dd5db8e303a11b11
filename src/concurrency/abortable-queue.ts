/** What a queued waiter must be able to do once it is served. */
export interface Parked {
  /** Stop listening for the abort; call when the waiter is served. */
  detach(): void;
}

/**
 * Append `entry` to `queue` and make it leave the queue, rejected with the
 * signal's reason, if `signal` aborts before it is served. The FIFO waits of
 * the semaphore and of the rate limiter share this.
 */
export function park<T extends Parked>(queue: T[], entry: Omit<T, 'detach'>, signal: AbortSignal | undefined, reject: (reason: unknown) => void): T {
  const onAbort = (): void => {
    const at = queue.indexOf(parked);
    if (at >= 0) queue.splice(at, 1);
    reject(signal?.reason);
  };
  const parked = { ...entry, detach: () => signal?.removeEventListener('abort', onAbort) } as T;
  signal?.addEventListener('abort', onAbort, { once: true });
  queue.push(parked);
  return parked;
}

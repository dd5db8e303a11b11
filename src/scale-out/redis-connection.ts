import { Redis } from 'ioredis';

/** Redis could not be reached, or refused us: one line that names the server (never its password). */
export class RedisUnavailableError extends Error {}

/** `redis://user:***@host:port/db`: a URL fit for a message or a log. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid Redis URL>';
  }
}

/**
 * Check, before any work starts, that Redis answers at `url`: a wrong port or password is one clear
 * line at once, rather than a client retrying forever in silence.
 * @throws RedisUnavailableError
 */
export async function probeRedis(url: string, timeoutMs = 5_000): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // connect() rejects with a bare "Connection is closed"; the cause (ECONNREFUSED, ENOTFOUND, WRONGPASS) comes as an event.
  let cause: Error | undefined;
  probe.on('error', (error: Error) => (cause ??= error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new RedisUnavailableError(`cannot reach Redis at ${redactRedisUrl(url)}: ${(cause ?? (error as Error)).message}`);
  } finally {
    probe.disconnect();
  }
}

/**
 * A long-lived connection, as BullMQ requires it (`maxRetriesPerRequest: null`): when Redis goes away,
 * commands wait and the client reconnects, so a Redis restart pauses the workers instead of failing
 * their jobs. `outage` hears its errors and reconnections (see {@link oncePerOutage}).
 */
export function openRedis(url: string, outage?: { onError: (error: Error) => void; onReady: () => void }): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  client.on('error', outage?.onError ?? (() => {}));
  if (outage) client.on('ready', outage.onReady);
  return client;
}

/**
 * An error handler for a command's connections that says a lost connection once, until it is back, and
 * every other error each time. ioredis and BullMQ both report every reconnection attempt; without a
 * handler, BullMQ prints each one with its stack.
 */
export function oncePerOutage(url: string, say: (line: string) => void): { onError: (error: Error) => void; onReady: () => void } {
  let down = false;
  return {
    onError: (error) => {
      if (!isConnectionError(error)) return say(`tumblr-dl: ${error.message}`);
      if (!down) say(`tumblr-dl: Redis at ${redactRedisUrl(url)}: ${error.message}; reconnecting`);
      down = true;
    },
    onReady: () => {
      if (down) say(`tumblr-dl: Redis at ${redactRedisUrl(url)} is back`);
      down = false;
    },
  };
}

/** A lost or refused connection, which the clients retry by themselves. */
function isConnectionError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(code) || /Connection is closed/.test(error.message);
}

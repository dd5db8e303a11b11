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
 * their jobs. `onError` hears each connection error (say it once, not once per retry).
 */
export function openRedis(url: string, onError: (error: Error) => void = () => {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  client.on('error', onError);
  return client;
}

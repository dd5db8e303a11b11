import type { Redis } from 'ioredis';

/** BullMQ's default key prefix: a queue `q` keeps its keys under `bull:q:`. */
const PREFIX = 'bull';

/**
 * The names of the BullMQ queues this Redis holds (each has a `bull:<name>:meta` key), sorted; at most
 * `limit`. Read with SCAN, never KEYS, so a Redis with millions of job keys is not blocked.
 */
export async function knownQueues(redis: Redis, limit = 20): Promise<string[]> {
  const names = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*:meta`, 'COUNT', 1000);
    for (const key of keys) names.add(key.slice(PREFIX.length + 1, -':meta'.length));
    cursor = next;
  } while (cursor !== '0' && names.size < limit);
  return [...names].sort().slice(0, limit);
}

/** Whether queue `name` exists at this Redis: something was enqueued to it, or a worker opened it. */
export async function queueExists(redis: Redis, name: string): Promise<boolean> {
  return (await redis.exists(`${PREFIX}:${name}:meta`)) === 1;
}

/** `queue "x" does not exist at <where> (queues there: a, b)`, for a misspelt `--queue`. */
export async function noSuchQueue(redis: Redis, name: string, where: string): Promise<string> {
  const others = await knownQueues(redis);
  return `queue "${name}" does not exist at ${where} (${others.length > 0 ? `queues there: ${others.join(', ')}` : 'it holds no queue'})`;
}

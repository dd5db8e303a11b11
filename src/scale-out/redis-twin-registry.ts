import { inject, injectable } from 'inversify';
import type { Redis } from 'ioredis';
import { serviceToken, type ServiceToken } from '../service-token.js';
import type { TwinRegistry } from '../store/twin-registry.js';

/** Token of the {@link RedisTwinRegistryOptions}. */
export const RedisTwinRegistryOptions: ServiceToken<RedisTwinRegistryOptions> = serviceToken('RedisTwinRegistryOptions');

/** Where the shared registry lives. */
export interface RedisTwinRegistryOptions {
  /** A connected ioredis client; the registry never closes it. */
  redis: Redis;
  /** The Redis hash (one per endpoint, bucket and prefix: see {@link twinRegistryKey}): field the SHA-256, value the key of the object holding it. */
  key: string;
}

/** Claim a field unless it is taken, and answer with what it holds now: one step, so no claim is lost between two. */
const CLAIM = `
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])
`;

/** Delete a field only while it still names the object being forgotten: a newer winner is never dropped. */
const FORGET = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;

/**
 * A {@link TwinRegistry} in a Redis hash that every worker writing into one bucket shares: the first
 * worker to complete an object for a SHA-256 claims it with `HSETNX`, and every later download of the same
 * bytes, on any machine, names that object instead of uploading its own. A claim is made only after the
 * object is complete, so the registry never names an object that does not exist (it can name one deleted
 * since: the store checks with a HEAD, and forgets it).
 */
@injectable()
export class RedisTwinRegistry implements TwinRegistry {
  constructor(@inject(RedisTwinRegistryOptions) private readonly options: RedisTwinRegistryOptions) {}

  async find(sha256: string): Promise<string | undefined> {
    return (await this.options.redis.hget(this.options.key, sha256)) ?? undefined;
  }

  async claim(sha256: string, key: string): Promise<string> {
    return (await this.options.redis.eval(CLAIM, 1, this.options.key, sha256, key)) as string;
  }

  async forget(sha256: string, key: string): Promise<void> {
    await this.options.redis.eval(FORGET, 1, this.options.key, sha256, key);
  }
}

/**
 * The Redis hash of the objects of one bucket and prefix on one server: `s3://b/p` and `s3://b/p/` are one
 * archive, and the same bucket name on two servers is two.
 */
export function twinRegistryKey(queueName: string, endpoint: string, location: string): string {
  return `tumblr-dl:${queueName}:objects:${endpoint === '' ? 'aws' : new URL(endpoint).host}:${location}`;
}

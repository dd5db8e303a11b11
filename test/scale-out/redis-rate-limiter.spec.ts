import { expect } from 'chai';
import { Redis } from 'ioredis';
import { DownloadError } from '../../src/errors/download-error.js';
import { RedisRateLimiter, type RedisRateLimiterOptions } from '../../src/scale-out/redis-rate-limiter.js';
import { SystemClock } from '../../src/time/clock.js';
import { startRedis, type RedisUnderTest } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';

// Real Redis, real time: the bucket lives on Redis's clock. Rates are high so that each test waits well under a second.
describe(RedisRateLimiter.name, () => {
  let server: RedisUnderTest;
  const clients: Redis[] = [];
  let prefix = 0;

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.quit()));
    await server.stop();
  });

  /** A limiter as a separate worker process would have it: its own connection, the shared prefix. */
  const limiter = (options: Partial<RedisRateLimiterOptions> & { prefix: string }): RedisRateLimiter => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    clients.push(redis);
    return new RedisRateLimiter({ redis, requestsPerSecond: 20, burst: 1, scope: 'host', ...options }, new SystemClock());
  };

  /**
   * Wait until a cooldown sent with `cooldown()` (which does not wait for Redis) is in Redis, where the other
   * processes see it; resolves with its deadline on Redis's clock. The key is the one the COOL_DOWN script sets.
   */
  const cooldownInRedis = async (prefix: string, host: string): Promise<number> => {
    const key = `${prefix}:cool:${host}`;
    let until: string | null = null;
    await waitUntil(async () => (until = await clients[0]!.get(key)) !== null, { what: `the cooldown of ${host} in Redis (${key})` });
    return Number(until);
  };

  /** Whether `promise` has settled yet. */
  const settledYet = (promise: Promise<unknown>): (() => boolean) => {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    return () => settled;
  };

  it('should hold two processes to one rate per host between them', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 40 });
    const b = limiter({ prefix: shared, requestsPerSecond: 40 });
    const grants: number[] = [];
    const start = Date.now();
    await Promise.all(Array.from({ length: 21 }, (_, i) => (i % 2 ? a : b).acquire(1, { key: 'media.tumblr.com' }).then(() => grants.push(Date.now() - start))));
    // One at once (burst 1), then 20 more at 40/s: 500 ms at least, whichever process asked. (No upper bound:
    // a slow machine makes the grants late, never early.)
    expect(Math.max(...grants)).to.be.at.least(475);
  });

  it('should give each host its own bucket', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 1 });
    await a.acquire(1, { key: 'a.example' });
    // a.example's bucket is empty for a second; b and c, each with a bucket of its own, go first.
    const nextOfA = a.acquire(1, { key: 'a.example' });
    const aGranted = settledYet(nextOfA);
    await Promise.all(['b.example', 'c.example'].map((host) => a.acquire(1, { key: host })));
    expect(aGranted(), "b and c waited for a's token").to.equal(false);
    await nextOfA;
  });

  it('should pause every process for a host when one of them sees a Retry-After', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 100 });
    const b = limiter({ prefix: shared, requestsPerSecond: 100 });
    const until = Date.now() + 1_000;
    a.cooldown('h.example', until);
    await cooldownInRedis(shared, 'h.example');
    const paused = b.acquire(1, { key: 'h.example' }).then(() => Date.now());
    const pausedGranted = settledYet(paused);
    // Another host is not held: granted while h.example still waits.
    await b.acquire(1, { key: 'other.example' });
    expect(pausedGranted(), 'the paused host was granted before the other').to.equal(false);
    // Redis counts the pause from when it got it, so it ends no earlier than `until` (a few ms for rounding).
    expect(await paused).to.be.at.least(until - 5);
  });

  it('should never shorten a pause with an earlier deadline', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared });
    const b = limiter({ prefix: shared });
    const until = Date.now() + 1_000;
    a.cooldown('h.example', until);
    await cooldownInRedis(shared, 'h.example');
    b.cooldown('h.example', Date.now() + 50);
    // b's acquire waits until its own, shorter pause has been sent: only a's deadline may free it then. A process
    // that sent neither waits for a's deadline too.
    const grants = await Promise.all([b, limiter({ prefix: shared })].map((l) => l.acquire(1, { key: 'h.example' }).then(() => Date.now())));
    for (const at of grants) expect(at).to.be.at.least(until - 5);
  });

  it('should let other hosts through a shared bucket while one host cools down', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 100, burst: 5, scope: 'global' });
    a.cooldown('slow.example', Date.now() + 2_000);
    const stop = new AbortController();
    const held = a.acquire(1, { key: 'slow.example', signal: stop.signal });
    const heldSettled = settledYet(held);
    await a.acquire(1, { key: 'fast.example' });
    // The paused host, first in the shared queue, was passed over, not granted and not in the way.
    expect(heldSettled(), 'the paused host was let through').to.equal(false);
    stop.abort(new Error('stopped'));
    await held.then(
      () => expect.fail('the paused host was let through'),
      (error: Error) => expect(error.message).to.equal('stopped'),
    );
  });

  it('should reject a waiter whose signal aborts, and serve the next', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 5 });
    await a.acquire(1, { key: 'h' });
    const stop = new AbortController();
    const first = a.acquire(1, { key: 'h', signal: stop.signal });
    const second = a.acquire(1, { key: 'h' });
    stop.abort(new Error('stopped'));
    await first.then(
      () => expect.fail('an aborted wait was granted'),
      (error: Error) => expect(error.message).to.equal('stopped'),
    );
    await second;
  });

  it('should keep the rate off at 0 but still honour cooldowns', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 0 });
    const start = Date.now();
    await Promise.all(Array.from({ length: 50 }, () => a.acquire(1, { key: 'h' })));
    // With burst 1, any rate at all would spread 50 grants over 49 refills; with the rate off they need no
    // wait, only round trips. Generous: an upper bound only a rate that is not off can break, not a busy machine.
    expect(Date.now() - start).to.be.below(5_000);
    const until = Date.now() + 500;
    a.cooldown('h', until);
    await cooldownInRedis(shared, 'h');
    await limiter({ prefix: shared, requestsPerSecond: 0 }).acquire(1, { key: 'h' });
    expect(Date.now()).to.be.at.least(until - 5);
  });

  it('should serve every waiter of a process in one call to Redis when the bucket holds enough', async () => {
    const shared = `t${++prefix}`;
    const stats = async (): Promise<number> => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await clients[0]!.info('commandstats'))?.[1] ?? 0);
    const a = limiter({ prefix: shared, requestsPerSecond: 0 });
    await a.acquire(1, { key: 'h' }); // the script is loaded
    const before = await stats();
    await Promise.all(Array.from({ length: 16 }, () => a.acquire(1, { key: 'h' })));
    // One call for the first waiter, one for the fifteen that queued behind it: not sixteen.
    expect((await stats()) - before).to.be.at.most(3);
    const b = limiter({ prefix: shared, requestsPerSecond: 100, burst: 8 });
    const limited = await stats();
    await Promise.all(Array.from({ length: 8 }, () => b.acquire(1, { key: 'h' })));
    expect((await stats()) - limited).to.be.at.most(4);
  });

  it('should refuse bad options as INVALID_CONFIG', () => {
    expect(() => limiter({ prefix: 'x', requestsPerSecond: -1 }))
      .to.throw(DownloadError)
      .with.property('code', 'INVALID_CONFIG');
    expect(() => limiter({ prefix: 'x', burst: 0 }))
      .to.throw(DownloadError)
      .with.property('code', 'INVALID_CONFIG');
  });
});

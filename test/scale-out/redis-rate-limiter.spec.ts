import { expect } from 'chai';
import { Redis } from 'ioredis';
import { DownloadError } from '../../src/errors/download-error.js';
import { RedisRateLimiter, type RedisRateLimiterOptions } from '../../src/scale-out/redis-rate-limiter.js';
import { SystemClock } from '../../src/time/clock.js';
import { startRedis, type RedisUnderTest } from '../support/redis-server.js';

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

  it('should hold two processes to one rate per host between them', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 40 });
    const b = limiter({ prefix: shared, requestsPerSecond: 40 });
    const grants: number[] = [];
    const start = Date.now();
    await Promise.all(
      Array.from({ length: 21 }, (_, i) => (i % 2 ? a : b).acquire(1, { key: 'media.tumblr.com' }).then(() => grants.push(Date.now() - start))),
    );
    // One at once (burst 1), then 20 more at 40/s: 500 ms at least, whichever process asked.
    expect(Math.max(...grants)).to.be.at.least(475);
    expect(Math.max(...grants)).to.be.below(1500);
  });

  it('should give each host its own bucket', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 2 });
    const start = Date.now();
    await Promise.all(['a.example', 'b.example', 'c.example'].map((host) => a.acquire(1, { key: host })));
    expect(Date.now() - start).to.be.below(250);
  });

  it("should pause every process for a host when one of them sees a Retry-After", async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 100 });
    const b = limiter({ prefix: shared, requestsPerSecond: 100 });
    a.cooldown('h.example', Date.now() + 400);
    await new Promise((r) => setTimeout(r, 20)); // the cooldown reaches Redis
    const start = Date.now();
    await b.acquire(1, { key: 'h.example' });
    expect(Date.now() - start).to.be.at.least(330);
    // Another host is not held.
    const other = Date.now();
    await b.acquire(1, { key: 'other.example' });
    expect(Date.now() - other).to.be.below(100);
  });

  it('should never shorten a pause with an earlier deadline', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared });
    const b = limiter({ prefix: shared });
    a.cooldown('h.example', Date.now() + 400);
    b.cooldown('h.example', Date.now() + 50);
    await new Promise((r) => setTimeout(r, 20));
    const start = Date.now();
    await limiter({ prefix: shared }).acquire(1, { key: 'h.example' });
    expect(Date.now() - start).to.be.at.least(300);
  });

  it('should let other hosts through a shared bucket while one host cools down', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 100, burst: 5, scope: 'global' });
    a.cooldown('slow.example', Date.now() + 2000);
    const held = a.acquire(1, { key: 'slow.example', signal: AbortSignal.timeout(300) });
    const start = Date.now();
    await a.acquire(1, { key: 'fast.example' });
    expect(Date.now() - start).to.be.below(150);
    await held.then(
      () => expect.fail('the paused host was let through'),
      (error: Error) => expect(error.name).to.equal('TimeoutError'),
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
    expect(Date.now() - start).to.be.below(500);
    a.cooldown('h', Date.now() + 200);
    const paused = Date.now();
    await limiter({ prefix: shared, requestsPerSecond: 0 }).acquire(1, { key: 'h' });
    expect(Date.now() - paused).to.be.at.least(150);
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
    expect(() => limiter({ prefix: 'x', requestsPerSecond: -1 })).to.throw(DownloadError).with.property('code', 'INVALID_CONFIG');
    expect(() => limiter({ prefix: 'x', burst: 0 })).to.throw(DownloadError).with.property('code', 'INVALID_CONFIG');
  });
});

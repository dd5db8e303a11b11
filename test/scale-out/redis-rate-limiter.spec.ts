import { expect } from 'chai';
import { Redis } from 'ioredis';
import { DownloadError } from '../../src/errors/download-error.js';
import { RedisRateLimiter, type RedisRateLimiterOptions } from '../../src/scale-out/redis-rate-limiter.js';
import { SystemClock } from '../../src/time/clock.js';
import { startRedis, type RedisUnderTest } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';
import { abortWaiter, settledYet } from '../support/settling.js';

/**
 * The real clock, whose sleeps all end when this file's tests do. A test that shows a host waiting gives it a wait far
 * longer than the test (a token 100 s away, a 60 s pause) and aborts the waiter; the limiter's loop, asleep until then
 * with nobody left to serve, would otherwise keep mocha's process alive as long.
 */
class EndingClock extends SystemClock {
  constructor(private readonly ended: AbortSignal) {
    super();
  }

  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return super.sleep(ms, signal ? AbortSignal.any([signal, this.ended]) : this.ended);
  }
}

// Real Redis, real time: the bucket lives on Redis's clock. Where a test proves one waiter is served while another still
// waits, the other's wait is far longer than any test (a rate of one per 100 s, a 60 s pause): told apart by order, not by
// how fast a busy machine gets there.
describe(RedisRateLimiter.name, () => {
  let server: RedisUnderTest;
  const clients: Redis[] = [];
  const ended = new AbortController();
  let prefix = 0;

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    ended.abort();
    await Promise.all(clients.map((c) => c.quit()));
    await server.stop();
  });

  /** A limiter as a separate worker process would have it: its own connection, the shared prefix. */
  const limiter = (options: Partial<RedisRateLimiterOptions> & { prefix: string }): RedisRateLimiter => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    clients.push(redis);
    return new RedisRateLimiter({ redis, requestsPerSecond: 20, burst: 1, scope: 'host', ...options }, new EndingClock(ended.signal));
  };

  /** Calls of the bucket script Redis has run so far, every client together. */
  const scriptCalls = async (): Promise<number> => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await clients[0]!.info('commandstats'))?.[1] ?? 0);

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
    // One token per 100 s: a.example's next is far beyond any test, however slow the machine. Were the bucket
    // shared, b and c would wait for it too (and time out).
    const a = limiter({ prefix: shared, requestsPerSecond: 0.01 });
    await a.acquire(1, { key: 'a.example' });
    const stop = new AbortController();
    const nextOfA = a.acquire(1, { key: 'a.example', signal: stop.signal });
    const aGranted = settledYet(nextOfA);
    await Promise.all(['b.example', 'c.example'].map((host) => a.acquire(1, { key: host })));
    expect(aGranted(), "a's second token came before b's and c's first").to.equal(false);
    await abortWaiter(nextOfA, stop);
  });

  it('should pause every process for a host when one of them sees a Retry-After', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 100 });
    const b = limiter({ prefix: shared, requestsPerSecond: 100 });
    // A pause far longer than the test: h.example cannot be granted in it, however slow the machine.
    const until = Date.now() + 60_000;
    a.cooldown('h.example', until);
    await cooldownInRedis(shared, 'h.example');
    const stop = new AbortController();
    const paused = b.acquire(1, { key: 'h.example', signal: stop.signal });
    const pausedGranted = settledYet(paused);
    // Another host is not held: granted while h.example still waits. (b asked for h.example first: had it not
    // been paused, it would have been granted first.)
    await b.acquire(1, { key: 'other.example' });
    expect(pausedGranted(), 'the paused host was granted').to.equal(false);
    // b learnt the pause from Redis, to its end: Redis counts it from when it got it, so no earlier than `until`
    // (a few ms for rounding).
    await waitUntil(() => b.cooldownUntil('h.example') !== undefined, { what: "b to learn of h.example's pause from Redis" });
    expect(b.cooldownUntil('h.example')).to.be.at.least(until - 5);
    await abortWaiter(paused, stop);
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
    // A pause far longer than the test: fast.example cannot be waiting for its end, however slow the machine.
    a.cooldown('slow.example', Date.now() + 60_000);
    const stop = new AbortController();
    const held = a.acquire(1, { key: 'slow.example', signal: stop.signal });
    const heldSettled = settledYet(held);
    await a.acquire(1, { key: 'fast.example' });
    // The paused host, first in the shared queue, was passed over, not granted and not in the way.
    expect(heldSettled(), 'the paused host was let through').to.equal(false);
    await abortWaiter(held, stop);
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
    await a.acquire(1, { key: 'h' }); // the script is loaded
    const before = await scriptCalls();
    await Promise.all(Array.from({ length: 50 }, () => a.acquire(1, { key: 'h' })));
    // Counted in calls to Redis, not in time: with any rate at all, a bucket of one (burst 1) gives one token a
    // call, so 50 waiters take 50 calls at least (and 49 refills). With the rate off, the script grants every
    // waiter there is: one call for the first, one for the 49 that queued behind it.
    expect((await scriptCalls()) - before, 'calls to Redis for 50 grants').to.be.at.most(3);
    const until = Date.now() + 500;
    a.cooldown('h', until);
    await cooldownInRedis(shared, 'h');
    await limiter({ prefix: shared, requestsPerSecond: 0 }).acquire(1, { key: 'h' });
    expect(Date.now()).to.be.at.least(until - 5);
  });

  it('should serve every waiter of a process in one call to Redis when the bucket holds enough', async () => {
    const shared = `t${++prefix}`;
    const a = limiter({ prefix: shared, requestsPerSecond: 0 });
    await a.acquire(1, { key: 'h' }); // the script is loaded
    const before = await scriptCalls();
    await Promise.all(Array.from({ length: 16 }, () => a.acquire(1, { key: 'h' })));
    // One call for the first waiter, one for the fifteen that queued behind it: not sixteen.
    expect((await scriptCalls()) - before).to.be.at.most(3);
    const b = limiter({ prefix: shared, requestsPerSecond: 100, burst: 8 });
    const limited = await scriptCalls();
    await Promise.all(Array.from({ length: 8 }, () => b.acquire(1, { key: 'h' })));
    expect((await scriptCalls()) - limited).to.be.at.most(4);
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

import { expect } from 'chai';
import { DownloadError } from '../../src/errors/download-error.js';
import { TokenBucketRateLimiter } from '../../src/rate-limit/rate-limiter.js';
import { flushMicrotasks, ManualClock } from '../support/manual-clock.js';

describe(TokenBucketRateLimiter.name, () => {
  describe('.acquire', () => {
    it('should grant a burst at once, then one token per 1/rate seconds', async () => {
      const clock = new ManualClock(0);
      const limiter = new TokenBucketRateLimiter({ requestsPerSecond: 2, burst: 2 }, clock);
      const granted: number[] = [];
      for (let i = 0; i < 5; i++) void limiter.acquire(1, { key: 'h' }).then(() => granted.push(clock.now()));
      await flushMicrotasks();
      expect(granted).to.deep.equal([0, 0]);
      await clock.advance(499);
      expect(granted).to.have.length(2);
      await clock.advance(1);
      expect(granted).to.deep.equal([0, 0, 500]);
      await clock.advance(1000);
      expect(granted).to.deep.equal([0, 0, 500, 1000, 1500]);
    });

    it('should accept the seed form new TokenBucketRateLimiter(rate)', async () => {
      const clock = new ManualClock(0);
      const limiter = new TokenBucketRateLimiter(4, clock);
      let granted = 0;
      for (let i = 0; i < 5; i++) void limiter.acquire().then(() => granted++);
      await flushMicrotasks();
      expect(granted).to.equal(4);
      await clock.advance(250);
      expect(granted).to.equal(5);
    });

    it('should serve waiters in arrival order even when a later one needs fewer tokens', async () => {
      const clock = new ManualClock(0);
      const limiter = new TokenBucketRateLimiter({ requestsPerSecond: 1, burst: 3 }, clock);
      await limiter.acquire(3);
      const order: string[] = [];
      void limiter.acquire(3).then(() => order.push('big'));
      void limiter.acquire(1).then(() => order.push('small'));
      await clock.advance(1000);
      expect(order).to.deep.equal([]);
      await clock.advance(2000);
      expect(order).to.deep.equal(['big']);
      await clock.advance(1000);
      expect(order).to.deep.equal(['big', 'small']);
    });

    it('should keep separate buckets per host when scope is host', async () => {
      const clock = new ManualClock(0);
      const limiter = new TokenBucketRateLimiter({ requestsPerSecond: 1, burst: 1 }, clock);
      await limiter.acquire(1, { key: 'a' });
      let bGranted = false;
      void limiter.acquire(1, { key: 'b' }).then(() => (bGranted = true));
      await flushMicrotasks();
      expect(bGranted).to.equal(true);
    });

    it('should share one bucket when scope is global', async () => {
      const clock = new ManualClock(0);
      const limiter = new TokenBucketRateLimiter({ requestsPerSecond: 1, burst: 1, scope: 'global' }, clock);
      await limiter.acquire(1, { key: 'a' });
      let bGranted = false;
      void limiter.acquire(1, { key: 'b' }).then(() => (bGranted = true));
      await flushMicrotasks();
      expect(bGranted).to.equal(false);
      await clock.advance(1000);
      expect(bGranted).to.equal(true);
    });

    it('should reject and leave the queue when the signal aborts', async () => {
      const clock = new ManualClock(0);
      const limiter = new TokenBucketRateLimiter({ requestsPerSecond: 1, burst: 1 }, clock);
      await limiter.acquire();
      const controller = new AbortController();
      const waiting = limiter.acquire(1, { signal: controller.signal });
      let nextGranted = false;
      void limiter.acquire().then(() => (nextGranted = true));
      controller.abort(new Error('cancelled'));
      let reason: unknown;
      await waiting.catch((e: unknown) => (reason = e));
      expect((reason as Error).message).to.equal('cancelled');
      await clock.advance(1000);
      // The aborted waiter's token went to the next one in line.
      expect(nextGranted).to.equal(true);
    });

    it('should refuse a request larger than the bucket instead of waiting forever', async () => {
      const limiter = new TokenBucketRateLimiter({ requestsPerSecond: 1, burst: 2 }, new ManualClock(0));
      let error: unknown;
      await limiter.acquire(3).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(RangeError);
    });

    it('should not limit at all when requestsPerSecond is 0', async () => {
      const limiter = new TokenBucketRateLimiter({ requestsPerSecond: 0 }, new ManualClock(0));
      await Promise.all(Array.from({ length: 100 }, () => limiter.acquire()));
    });
  });

  describe('.cooldown', () => {
    it('should hold every request to a host until the deadline while other hosts flow', async () => {
      const clock = new ManualClock(0);
      const limiter = new TokenBucketRateLimiter({ requestsPerSecond: 100, burst: 100, scope: 'global' }, clock);
      limiter.cooldown('slow.test', 2000);
      const grantedAt: Record<string, number[]> = { slow: [], fast: [] };
      for (let i = 0; i < 20; i++) void limiter.acquire(1, { key: 'slow.test' }).then(() => grantedAt.slow!.push(clock.now()));
      for (let i = 0; i < 5; i++) void limiter.acquire(1, { key: 'fast.test' }).then(() => grantedAt.fast!.push(clock.now()));
      await clock.advance(1999);
      expect(grantedAt.slow).to.have.length(0);
      expect(grantedAt.fast).to.deep.equal([0, 0, 0, 0, 0]);
      await clock.advance(1);
      expect(grantedAt.slow).to.have.length(20);
      expect(Math.min(...grantedAt.slow!)).to.equal(2000);
    });

    it('should extend but never shorten a cooldown', () => {
      const limiter = new TokenBucketRateLimiter({ requestsPerSecond: 1 }, new ManualClock(0));
      limiter.cooldown('h', 5000);
      limiter.cooldown('h', 1000);
      expect(limiter.cooldownUntil('h')).to.equal(5000);
      limiter.cooldown('h', 9000);
      expect(limiter.cooldownUntil('h')).to.equal(9000);
      expect(limiter.cooldownUntil('other')).to.equal(undefined);
    });
  });

  it('should refuse a negative, infinite or non-numeric rate, or a burst under 1, with a coded INVALID_CONFIG error', () => {
    for (const options of [{ requestsPerSecond: -1 }, { requestsPerSecond: Infinity }, { requestsPerSecond: '5' as unknown as number }, { burst: 0 }]) {
      expect(() => new TokenBucketRateLimiter(options), JSON.stringify(options))
        .to.throw(DownloadError, 'Invalid rate-limit options')
        .with.property('code', 'INVALID_CONFIG');
    }
  });
});

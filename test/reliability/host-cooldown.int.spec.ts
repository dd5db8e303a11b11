import { expect } from 'chai';
import type { DownloadResult } from '../../src/model/download-result.js';
import { RateLimiter, TokenBucketRateLimiter, type AcquireOptions } from '../../src/rate-limit/rate-limiter.js';
import { RateLimiterOptions } from '../../src/rate-limit/rate-limiter-options.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { FaultServer } from '../support/fault-server.js';
import { jpegBytes } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { createTestRig, type TestRig } from '../support/test-container.js';
import { waitUntil } from '../support/wait-until.js';

const START = 1_700_000_000_000;

/**
 * The downloader's own limiter, counting the waits it was asked for and the grants it made: each grant is a
 * request on its way, which lets the test wait for the requests of a step of virtual time to land.
 */
class CountingRateLimiter implements RateLimiter {
  asked = 0;
  /** The host of each grant, in order. */
  readonly granted: string[] = [];

  constructor(private readonly inner: RateLimiter) {}

  async acquire(n?: number, options?: AcquireOptions): Promise<void> {
    this.asked++;
    await this.inner.acquire(n, options);
    this.granted.push(options?.key ?? 'global');
  }

  cooldown(key: string, untilMs: number): void {
    this.inner.cooldown(key, untilMs);
  }

  cooldownUntil(key: string): number | undefined {
    return this.inner.cooldownUntil(key);
  }
}

describe('Reliability: a 429 with Retry-After cools down the whole host', function () {
  this.timeout(20_000);
  let rig: TestRig;
  let slowHost: FaultServer;
  let otherHost: FaultServer;

  useRealSockets();

  afterEach(async () => {
    await rig.cleanup();
    await Promise.all([slowHost.stop(), otherHost.stop()]);
  });

  it('should send nothing to that host before the deadline while other hosts keep flowing', async () => {
    const clock = new ManualClock(START);
    let limiter!: CountingRateLimiter;
    // 10 requests/s per host with no burst: without the cooldown, one queued request would go every 100 ms.
    rig = createTestRig(
      { maxConcurrent: 30, perHostConcurrency: 30, rateLimit: { requestsPerSecond: 10, burst: 1 } },
      (c) => {
        limiter = new CountingRateLimiter(new TokenBucketRateLimiter(c.get(RateLimiterOptions), clock));
        c.rebind(RateLimiter).toConstantValue(limiter);
      },
      clock,
    );
    slowHost = new FaultServer(() => clock.now());
    otherHost = new FaultServer(() => clock.now());
    const [slowBase, otherBase] = await Promise.all([slowHost.start('127.0.0.1'), otherHost.start('127.0.0.2')]);
    const body = jpegBytes(4096);
    for (let i = 0; i < 20; i++) {
      slowHost.script(`/s${i}.jpg`, { body, statusFor: () => (slowHost.requests.length === 1 ? { status: 429, headers: { 'retry-after': '2' } } : undefined) });
    }
    for (let i = 0; i < 5; i++) otherHost.script(`/o${i}.jpg`, { body });
    const requests = (): number => slowHost.requests.length + otherHost.requests.length;
    /** Every request the limiter let go has reached its server: what virtual time allowed so far is on the record. */
    const landed = (): Promise<void> => waitUntil(() => requests() === limiter.granted.length, { what: 'every granted request to reach its server' });
    /** Step virtual time by 100 ms, let the sleepers it woke run on, and wait for the requests they sent. */
    const tick = async (): Promise<void> => {
      await clock.advance(100);
      await new Promise((resolve) => setImmediate(resolve));
      await landed();
    };

    const done: DownloadResult[] = [];
    const all = [
      ...Array.from({ length: 20 }, (_, i) => rig.downloader.downloadImage(`${slowBase}/s${i}.jpg`, 'slow')),
      ...Array.from({ length: 5 }, (_, i) => rig.downloader.downloadImage(`${otherBase}/o${i}.jpg`, 'other')),
    ].map((p) => p.then((r) => (done.push(r), r)));

    // Virtual time stands still until every download waits at the limiter and the first request has met its 429:
    // from then on, what each step of 100 ms lets through is decided by the limiter alone.
    await waitUntil(() => limiter.asked === 25 && rig.recorder.of('rate-limited').length === 1, { what: 'all 25 downloads at the limiter, and the 429' });
    await landed();
    expect(slowHost.requests).to.have.length(1);
    const deadline = rig.recorder.of('rate-limited')[0]!.untilMs;
    expect(deadline).to.equal(slowHost.requests[0]!.at + 2000);
    for (let t = 0; t < 1900; t += 100) await tick();
    expect(
      limiter.granted.filter((host) => host === '127.0.0.1'),
      'grants for the cooling host before its deadline',
    ).to.have.length(1);
    expect(slowHost.requests, 'requests to the cooling host before its deadline').to.have.length(1);
    expect(otherHost.requests.length, 'the other host kept flowing').to.equal(5);

    for (let i = 0; i < 60 && slowHost.requests.length < 21; i++) await tick();
    const results = await Promise.all(all);
    expect(done).to.have.length(25);
    expect(results.every((r) => r.status === 'success')).to.equal(true);
    expect(slowHost.requests.slice(1).every((r) => r.at >= deadline)).to.equal(true);
    expect(slowHost.requests).to.have.length(21);
  });
});

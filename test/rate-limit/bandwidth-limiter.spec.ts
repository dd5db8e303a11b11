import { expect } from 'chai';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import { DownloadError } from '../../src/errors/download-error.js';
import { SmoothBandwidthLimiter } from '../../src/rate-limit/bandwidth-limiter.js';
import { ManualClock } from '../support/manual-clock.js';

/** Run `readers` reading `chunks` chunks of `size` bytes each through the limiter; the virtual times at which each chunk passed. */
async function read(limiter: SmoothBandwidthLimiter, clock: ManualClock, readers: { key: string; chunks: number; size: number }[], untilMs: number) {
  const passed: { at: number; key: string; bytes: number }[] = [];
  const loops = readers.map(async ({ key, chunks, size }) => {
    for (let i = 0; i < chunks; i++) {
      await limiter.take(size, { key });
      passed.push({ at: clock.now(), key, bytes: size });
    }
  });
  for (let t = 0; t < untilMs; t += 10) await clock.advance(10);
  await Promise.all(loops);
  return passed;
}

/** The most bytes that passed in any window of `windowMs`. */
function busiest(passed: { at: number; bytes: number }[], windowMs: number): number {
  let most = 0;
  for (const start of passed.map((p) => p.at)) {
    most = Math.max(
      most,
      passed.filter((p) => p.at >= start && p.at < start + windowMs).reduce((sum, p) => sum + p.bytes, 0),
    );
  }
  return most;
}

describe(SmoothBandwidthLimiter.name, () => {
  it('should hold many readers to the overall cap, within 5 % over 10 s, never more than the cap plus 0.2 s of it in any second', async () => {
    const clock = new ManualClock(0);
    const cap = 1_000_000;
    const limiter = new SmoothBandwidthLimiter({ bytesPerSecond: cap, perHostBytesPerSecond: 0 }, clock);
    // Eight readers of 16 KiB chunks, 13 s of the cap between them.
    const readers = Array.from({ length: 8 }, (_, i) => ({ key: `h${i % 3}`, chunks: 100, size: 16 * 1024 }));
    const passed = await read(limiter, clock, readers, 15_000);
    const inTen = passed.filter((p) => p.at < 10_000).reduce((sum, p) => sum + p.bytes, 0);
    expect(inTen / 10 / cap).to.be.within(0.95, 1.05);
    expect(busiest(passed, 1_000)).to.be.at.most(cap * 1.2 + 16 * 1024);
  });

  it('should give each host its own cap', async () => {
    const clock = new ManualClock(0);
    const limiter = new SmoothBandwidthLimiter({ bytesPerSecond: 0, perHostBytesPerSecond: 200_000 }, clock);
    const passed = await read(
      limiter,
      clock,
      [
        { key: 'a', chunks: 40, size: 64 * 1024 },
        { key: 'b', chunks: 40, size: 64 * 1024 },
      ],
      15_000,
    );
    for (const key of ['a', 'b']) {
      const bytes = passed.filter((p) => p.key === key && p.at < 10_000).reduce((sum, p) => sum + p.bytes, 0);
      expect(bytes / 10 / 200_000, key).to.be.within(0.95, 1.05);
    }
  });

  it('should pass bytes at once when no cap is set, and give up a wait when its signal aborts', async () => {
    const clock = new ManualClock(0);
    const open = new SmoothBandwidthLimiter({ bytesPerSecond: 0, perHostBytesPerSecond: 0 }, clock);
    expect(open.capped).to.equal(false);
    await open.take(1e12, { key: 'h' });
    const capped = new SmoothBandwidthLimiter({ bytesPerSecond: 1000, perHostBytesPerSecond: 0 }, clock);
    const stop = new AbortController();
    const waiting = capped.take(10_000, { signal: stop.signal });
    stop.abort(new Error('stopped'));
    await waiting.then(
      () => expect.fail('an aborted wait passed'),
      (error: Error) => expect(error.message).to.equal('stopped'),
    );
  });

  it('should refuse a negative cap, and lift the default attempt timeout under a cap unless one is given', () => {
    expect(() => new SmoothBandwidthLimiter({ bytesPerSecond: -1, perHostBytesPerSecond: 0 }, new ManualClock(0)))
      .to.throw(DownloadError)
      .with.property('code', 'INVALID_CONFIG');
    expect(resolveDownloaderConfig({ outputDir: 'x' }).timeout).to.equal(300_000);
    expect(resolveDownloaderConfig({ outputDir: 'x', bandwidth: { bytesPerSecond: 1024 } }).timeout).to.equal(0);
    expect(resolveDownloaderConfig({ outputDir: 'x', bandwidth: { perHostBytesPerSecond: 1024 }, timeout: 60_000 }).timeout).to.equal(60_000);
  });
});

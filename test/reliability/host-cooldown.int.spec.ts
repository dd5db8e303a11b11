import { expect } from 'chai';
import type { DownloadResult } from '../../src/model/download-result.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { FaultServer } from '../support/fault-server.js';
import { jpegBytes } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

const START = 1_700_000_000_000;

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
    // 10 requests/s per host with no burst: without the cooldown, one queued request would go every 100 ms.
    rig = createTestRig({ maxConcurrent: 30, perHostConcurrency: 30, rateLimit: { requestsPerSecond: 10, burst: 1 } }, undefined, clock);
    slowHost = new FaultServer(() => clock.now());
    otherHost = new FaultServer(() => clock.now());
    const [slowBase, otherBase] = await Promise.all([slowHost.start('127.0.0.1'), otherHost.start('127.0.0.2')]);
    const body = jpegBytes(4096);
    for (let i = 0; i < 20; i++) {
      slowHost.script(`/s${i}.jpg`, { body, statusFor: () => (slowHost.requests.length === 1 ? { status: 429, headers: { 'retry-after': '2' } } : undefined) });
    }
    for (let i = 0; i < 5; i++) otherHost.script(`/o${i}.jpg`, { body });

    const done: DownloadResult[] = [];
    const all = [
      ...Array.from({ length: 20 }, (_, i) => rig.downloader.downloadImage(`${slowBase}/s${i}.jpg`, 'slow')),
      ...Array.from({ length: 5 }, (_, i) => rig.downloader.downloadImage(`${otherBase}/o${i}.jpg`, 'other')),
    ].map((p) => p.then((r) => (done.push(r), r)));

    // Let the first request meet its 429, then step virtual time in 100 ms ticks, giving real I/O a moment per tick.
    await until(() => slowHost.requests.length === 1 && rig.recorder.of('rate-limited').length === 1);
    const deadline = rig.recorder.of('rate-limited')[0]!.untilMs;
    expect(deadline).to.equal(slowHost.requests[0]!.at + 2000);
    for (let t = 0; t < 1900; t += 100) await tick(clock);
    expect(slowHost.requests, 'requests to the cooling host before its deadline').to.have.length(1);
    expect(otherHost.requests.length, 'the other host kept flowing').to.equal(5);

    for (let i = 0; i < 60 && done.length < 25; i++) await tick(clock);
    const results = await Promise.all(all);
    expect(results.every((r) => r.status === 'success')).to.equal(true);
    expect(slowHost.requests.slice(1).every((r) => r.at >= deadline)).to.equal(true);
    expect(slowHost.requests).to.have.length(21);
  });
});

async function tick(clock: ManualClock): Promise<void> {
  await clock.advance(100);
  await new Promise((resolve) => setTimeout(resolve, 15));
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition(), 'condition reached').to.equal(true);
}

import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { DownloadEvents } from '../../src/events/download-events.js';
import { SystemClock, Clock } from '../../src/time/clock.js';
import { sha256, listOutput } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { FaultServer, type FaultScript } from '../support/fault-server.js';
import { createTestRig, type TestRig } from '../support/test-container.js';
import { waitUntil } from '../support/wait-until.js';

const MiB = 1024 * 1024;

/** `size` random bytes with a JPEG signature: incompressible, like real media. */
function randomJpeg(size: number): Buffer {
  const body = randomBytes(size);
  body.set([0xff, 0xd8, 0xff, 0xe0]);
  return body;
}

describe('MediaDownloader against a real loopback server', function () {
  this.timeout(60_000);
  let server: FaultServer;
  let base: string;
  let rig: TestRig;
  const bigSize = 50 * MiB;
  const bigBody = randomJpeg(bigSize);
  const bigSha = sha256(bigBody);
  // Above RESUMABLE_MIN_BYTES, so a stalled transfer keeps its .part.
  const smallBody = randomJpeg(2 * MiB);

  useRealSockets();

  beforeEach(async () => {
    server = new FaultServer();
    base = await server.start();
    // Real time for real sockets; backoff kept tiny so retries cost milliseconds.
    rig = createTestRig({ retry: { baseBackoff: 5, maxBackoff: 20 }, progressIntervalMs: 100 }, (c) => {
      c.rebind(Clock).to(SystemClock);
    });
  });

  afterEach(async () => {
    await rig.cleanup();
    await server.stop();
  });

  const big = (extra: Partial<FaultScript> = {}): void => server.script('/big.jpg', { body: bigBody, etag: '"big-v1"', ...extra });

  it('should download 50 MiB with the right SHA-256 and memory bounded well below the file size', async () => {
    await rig.cleanup();
    // Every chunk reported, so that memory is sampled by the bytes that came, not by the clock.
    rig = createTestRig({ retry: { baseBackoff: 5, maxBackoff: 20 }, progressIntervalMs: 0 }, (c) => c.rebind(Clock).to(SystemClock));
    big();
    global.gc?.();
    const baseline = process.memoryUsage();
    let peakExternal = 0;
    let peakHeap = 0;
    let samples = 0;
    // Live memory, not garbage: collect before each sample (mocha runs with --expose-gc), so the bound
    // measures what the download holds on to, not when V8 happens to collect. One sample per 4 MiB that
    // arrive, however fast: a collection every 20 ms on a timer left a busy machine's download so little
    // time to run that it met the test's timeout, and a buffered body grows until its last sample.
    const sample = ({ bytes }: { bytes: number }): void => {
      if (bytes < (samples + 1) * 4 * MiB) return;
      samples++;
      global.gc?.();
      const m = process.memoryUsage();
      peakExternal = Math.max(peakExternal, m.arrayBuffers - baseline.arrayBuffers);
      peakHeap = Math.max(peakHeap, m.heapUsed - baseline.heapUsed);
    };
    const events = rig.container.get<DownloadEvents>(DownloadEvents);
    events.on('progress', sample);
    const result = await rig.downloader.downloadImage(`${base}/big.jpg`, '1');
    events.off('progress', sample);
    expect(result).to.include({ status: 'success', byteSize: bigSize, checksum: bigSha });
    expect(samples, 'memory samples, one per 4 MiB').to.equal(12);
    // Buffering the body would hold ≥ 50 MiB live; streaming holds a few chunks (3–5 MiB measured).
    expect(peakExternal + peakHeap, `peak growth ${(peakExternal + peakHeap) / MiB} MiB`).to.be.below(16 * MiB);
  });

  it('should resume after the connection drops mid-body and transfer only the missing bytes', async () => {
    big({ cutAfter: { bytes: 10 * MiB } });
    const result = await rig.downloader.downloadImage(`${base}/big.jpg`, '1');
    expect(result).to.include({ status: 'success', checksum: bigSha, attempts: 2 });
    expect(result.resumedFromByte)
      .to.be.greaterThan(0)
      .and.at.most(10 * MiB);
    const [first, second] = server.requests;
    expect(first).to.include({ status: 200 });
    expect(second).to.include({ status: 206, ifRange: '"big-v1"', range: `bytes=${result.resumedFromByte}-` });
    // Everything served once, plus at most what was in flight when the socket died.
    expect(server.bytesServed).to.be.at.most(bigSize + 10 * MiB - result.resumedFromByte);
    expect(listOutput(rig.dir)).to.deep.equal([path.basename(result.filename)]);
  });

  it('should restart from zero when the origin changed between attempts (If-Range mismatch → 200)', async () => {
    big({ cutAfter: { bytes: 5 * MiB } });
    const events = rig.container.get<DownloadEvents>(DownloadEvents);
    // The file is "replaced" on the origin between the two attempts.
    events.on('retrying', () => big({ etag: '"big-v2"' }));
    const result = await rig.downloader.downloadImage(`${base}/big.jpg`, '1');
    expect(result).to.include({ status: 'success', checksum: bigSha, resumedFromByte: 0 });
    expect(server.requests[1]).to.include({ status: 200, ifRange: '"big-v1"' });
  });

  it('should abort a stalled transfer and retry it', async () => {
    await rig.cleanup();
    rig = createTestRig({ retry: { baseBackoff: 5, maxBackoff: 20, maxRetries: 1 }, stall: { minBytes: 1, windowMs: 100 } }, (c) => c.rebind(Clock).to(SystemClock));
    server.script('/small.jpg', { body: smallBody, stallAfter: 1000 });
    const result = await rig.downloader.downloadImage(`${base}/small.jpg`, '1');
    expect(result).to.include({ status: 'error', errorCode: 'STALLED', attempts: 2 });
    const retrying = rig.recorder.of('retrying');
    expect(retrying[0]?.code).to.equal('STALLED');
    // The stalled attempts kept their bytes for a resume: the second one asked for a range.
    expect(server.requests[1]?.range).to.equal('bytes=1000-');
  });

  it('should time out an origin that never answers, retry, and report TIMEOUT', async () => {
    await rig.cleanup();
    rig = createTestRig({ retry: { baseBackoff: 5, maxBackoff: 20, maxRetries: 1 }, responseTimeout: 100 }, (c) => c.rebind(Clock).to(SystemClock));
    server.script('/small.jpg', { body: smallBody, headerDelayMs: 60_000 });
    const result = await rig.downloader.downloadImage(`${base}/small.jpg`, '1');
    expect(result).to.include({ status: 'error', errorCode: 'TIMEOUT', attempts: 2 });
    expect(server.requests).to.have.length(2);
    expect(listOutput(rig.dir)).to.deep.equal([]);
  });

  it('should keep a resumable part when the caller aborts, and finish it later with a Range request', async () => {
    big({ stallAfter: 3 * MiB });
    const controller = new AbortController();
    let settled = false;
    const download = rig.downloader.downloadWithResume(`${base}/big.jpg`, 'big.jpg', {}, controller.signal).finally(() => (settled = true));
    // Abort once the 3 MiB the server sends before it falls silent are on disk.
    const onDisk = (): number => (existsSync(path.join(rig.dir, 'big.jpg.part')) ? statSync(path.join(rig.dir, 'big.jpg.part')).size : 0);
    await waitUntil(() => settled || onDisk() >= 3 * MiB, { what: '3 MiB in big.jpg.part' });
    controller.abort();
    const aborted = await download;
    expect(aborted).to.include({ status: 'error', errorCode: 'ABORTED' });
    expect(existsSync(path.join(rig.dir, 'big.jpg'))).to.equal(false);
    const kept = statSync(path.join(rig.dir, 'big.jpg.part')).size;
    expect(kept).to.equal(3 * MiB);
    const sidecar = JSON.parse(readFileSync(path.join(rig.dir, 'big.jpg.part.json'), 'utf8')) as Record<string, unknown>;
    expect(sidecar).to.deep.equal({ url: `${base}/big.jpg`, etag: '"big-v1"', contentLength: bigSize, contentType: 'image/jpeg', bytes: kept });

    big();
    const resumed = await rig.downloader.downloadWithResume(`${base}/big.jpg`, 'big.jpg');
    expect(resumed).to.include({ status: 'success', checksum: bigSha });
    expect(resumed.resumedFromByte).to.equal(3 * MiB);
    expect(server.requests.at(-1)).to.include({ status: 206, range: `bytes=${resumed.resumedFromByte}-` });
    expect(listOutput(rig.dir)).to.deep.equal(['big.jpg']);
  });

  it('should leave no file behind for a 404 (got would have created it before the status arrived)', async () => {
    const result = await rig.downloader.downloadFile(`${base}/nope.jpg`, 'nope.jpg');
    expect(result.status).to.equal('missing');
    expect(listOutput(rig.dir)).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DownloadLedger } from '../../src/ledger/download-ledger.js';
import { RateLimiter, type AcquireOptions } from '../../src/rate-limit/rate-limiter.js';
import { jpegBytes } from '../support/fixtures.js';
import { TUMBLR } from '../support/nock-helpers.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

/** A limiter that grants nothing: every acquire waits for its signal, and says when it started waiting. */
class ClosedLimiter {
  waiting: () => void = () => {};
  readonly firstWait = new Promise<void>((resolve) => (this.waiting = resolve));
  acquire(_n: number, options: AcquireOptions): Promise<void> {
    this.waiting();
    return new Promise((_resolve, reject) => options.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true }));
  }
  cooldown(): void {}
  cooldownUntil(): number | undefined {
    return undefined;
  }
}

describe('a .part an earlier run kept', () => {
  let rig: TestRig;
  const limiter = new ClosedLimiter();
  afterEach(() => rig.cleanup());

  it('should keep its in-progress mark when the download is aborted before any transfer decides about it', async () => {
    rig = createTestRig({ resume: true }, (c) => c.rebind(RateLimiter).toConstantValue(limiter as unknown as RateLimiter));
    const url = `${TUMBLR}/big.jpg`;
    const file = path.join(rig.dir, 'big.jpg');
    // What an interrupted run leaves: the bytes so far, the sidecar that lets them be continued, the ledger's mark.
    writeFileSync(`${file}.part`, jpegBytes(4096).subarray(0, 1024));
    writeFileSync(`${file}.part.json`, JSON.stringify({ url, etag: '"v1"', contentLength: 4096, bytes: 1024 }));
    const ledger = rig.container.get(DownloadLedger);
    await ledger.markStarted({ url, partPath: `${file}.part`, startedAt: 1 });

    const controller = new AbortController();
    const result = rig.downloader.downloadFile(url, 'big.jpg', {}, controller.signal);
    await limiter.firstWait;
    controller.abort();
    expect(await result).to.include({ status: 'error', errorCode: 'ABORTED' });
    expect(existsSync(`${file}.part`), 'the .part').to.equal(true);
    expect(
      (await ledger.inProgress()).map((p) => p.url),
      'the mark that lets verify list it',
    ).to.deep.equal([url]);
  });
});

import 'reflect-metadata';
import { expect } from 'chai';
import { Container } from 'inversify';
import { Semaphore } from '../../src/concurrency/semaphore.js';
import { MediaDownloader } from '../../src/downloader/media-downloader.js';
import { DownloadEvents } from '../../src/events/download-events.js';
import { DownloadLedger } from '../../src/ledger/download-ledger.js';
import { downloaderModule } from '../../src/module.js';
import { FaultServer } from '../support/fault-server.js';
import { jpegBytes, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * Every {@link Semaphore} asked for a slot from now on, until `restore()`: the downloader's slots are its own,
 * and a test that must know "these downloads are waiting for a slot" can only count the waiters there.
 */
function watchSemaphores(): { waiting: () => number; restore: () => void } {
  const seen = new Set<Semaphore>();
  const acquire = Semaphore.prototype.acquire;
  Semaphore.prototype.acquire = function (this: Semaphore, ...args: Parameters<Semaphore['acquire']>) {
    seen.add(this);
    return acquire.apply(this, args);
  };
  return {
    waiting: () => [...seen].reduce((sum, semaphore) => sum + semaphore.queued, 0),
    restore: () => void (Semaphore.prototype.acquire = acquire),
  };
}

describe('priorities against a real loopback server', () => {
  useRealSockets();
  let server: FaultServer;
  let base = '';
  const temp = tempDir('tdl-prio-');
  const names = ['first.jpg', 'video-1.jpg', 'plain-a.jpg', 'image-1.jpg', 'plain-b.jpg', 'image-2.jpg', 'x.jpg'];

  before(async () => {
    server = new FaultServer();
    base = await server.start();
    // The first file is held until everything asked for meanwhile waits for the one slot.
    for (const name of names) server.script(`/${name}`, { body: jpegBytes(4096, name.length + 1), hold: name === 'first.jpg' });
  });
  after(async () => {
    await server.stop();
    temp.cleanup();
  });

  it('should start waiting downloads by priority, higher first, then in call order; the events and results carry it', async () => {
    const container = new Container();
    container.load(downloaderModule({ outputDir: temp.dir, maxConcurrent: 1, rateLimit: { requestsPerSecond: 0 } }));
    const downloader = container.get(MediaDownloader);
    const events = container.get(DownloadEvents);
    const started: string[] = [];
    const queuedPriority = new Map<string, number | undefined>();
    events.on('queued', (e) => queuedPriority.set(e.url.split('/').pop()!, e.priority));
    events.on('started', (e) => started.push(e.url.split('/').pop()!));
    const slots = watchSemaphores();
    try {
      const first = downloader.downloadImage(`${base}/first.jpg`, '1');
      // Its request is here, so it holds the one slot (taken before any request), and keeps it while held.
      await server.arrived(1);
      const asked: [string, number | undefined][] = [
        ['video-1.jpg', -1],
        ['plain-a.jpg', undefined],
        ['image-1.jpg', 10],
        ['plain-b.jpg', 0],
        ['image-2.jpg', 10],
      ];
      const rest = asked.map(([name, priority]) => downloader.downloadImage(`${base}/${name}`, name, priority === undefined ? {} : { priority }));
      // Let the first finish only once all five wait for its slot: the order is then the queue's alone.
      await waitUntil(() => slots.waiting() === asked.length, { what: `${asked.length} downloads waiting for the slot` });
      server.release();
      const results = await Promise.all([first, ...rest]);
      expect(started).to.deep.equal(['first.jpg', 'image-1.jpg', 'image-2.jpg', 'plain-a.jpg', 'plain-b.jpg', 'video-1.jpg']);
      expect(results.map((r) => r.priority)).to.deep.equal([undefined, -1, undefined, 10, 0, 10]);
      expect(queuedPriority.get('image-1.jpg')).to.equal(10);
      expect(queuedPriority.has('plain-a.jpg') && queuedPriority.get('plain-a.jpg')).to.equal(undefined);
      const refused = await downloader.downloadImage(`${base}/x.jpg`, 'x', { priority: 1.5 });
      expect(refused).to.include({ status: 'error', errorCode: 'BAD_INPUT' });
    } finally {
      slots.restore();
      server.release();
      await downloader.close();
      await container.get(DownloadLedger).close();
    }
  });
});

import 'reflect-metadata';
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Container } from 'inversify';
import { MediaDownloader } from '../../src/downloader/media-downloader.js';
import { DownloadEvents } from '../../src/events/download-events.js';
import { DownloadLedger } from '../../src/ledger/download-ledger.js';
import { downloaderModule } from '../../src/module.js';
import { jpegBytes, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';

describe('priorities against a real loopback server', () => {
  useRealSockets();
  let server: Server;
  let base = '';
  const temp = tempDir('tdl-prio-');

  before(async () => {
    // The first file is slow, so everything asked for meanwhile waits for the one slot.
    server = createServer((req, res) => {
      const body = jpegBytes(4096, req.url!.length);
      setTimeout(() => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body), req.url === '/first.jpg' ? 300 : 5);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
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
    const first = downloader.downloadImage(`${base}/first.jpg`, '1');
    await new Promise((resolve) => setTimeout(resolve, 50)); // first holds the slot
    const asked: [string, number | undefined][] = [['video-1.jpg', -1], ['plain-a.jpg', undefined], ['image-1.jpg', 10], ['plain-b.jpg', 0], ['image-2.jpg', 10]];
    const rest = asked.map(([name, priority]) => downloader.downloadImage(`${base}/${name}`, name, priority === undefined ? {} : { priority }));
    const results = await Promise.all([first, ...rest]);
    expect(started).to.deep.equal(['first.jpg', 'image-1.jpg', 'image-2.jpg', 'plain-a.jpg', 'plain-b.jpg', 'video-1.jpg']);
    expect(results.map((r) => r.priority)).to.deep.equal([undefined, -1, undefined, 10, 0, 10]);
    expect(queuedPriority.get('image-1.jpg')).to.equal(10);
    expect(queuedPriority.has('plain-a.jpg') && queuedPriority.get('plain-a.jpg')).to.equal(undefined);
    const refused = await downloader.downloadImage(`${base}/x.jpg`, 'x', { priority: 1.5 });
    expect(refused).to.include({ status: 'error', errorCode: 'BAD_INPUT' });
    await downloader.close();
    await container.get(DownloadLedger).close();
  });
});

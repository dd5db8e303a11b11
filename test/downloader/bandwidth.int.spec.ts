import 'reflect-metadata';
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Container } from 'inversify';
import { MediaDownloader } from '../../src/downloader/media-downloader.js';
import { DownloadLedger } from '../../src/ledger/download-ledger.js';
import { downloaderModule } from '../../src/module.js';
import { jpegBytes, sha256, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';

// The cap on the real clock, once: the virtual-clock tests of SmoothBandwidthLimiter hold the arithmetic.
describe('bandwidth cap against a real loopback server', function () {
  this.timeout(20_000);
  useRealSockets();
  const MiB = 1024 * 1024;
  const body = jpegBytes(3 * MiB / 2, 5);
  let server: Server;
  let port = 0;
  const temp = tempDir('tdl-cap-');

  before(async () => {
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    temp.cleanup();
  });

  const timed = async (bandwidth: { bytesPerSecond?: number; perHostBytesPerSecond?: number }, urls: string[]) => {
    const container = new Container();
    container.load(downloaderModule({ outputDir: `${temp.dir}/${Math.random()}`, rateLimit: { requestsPerSecond: 0 }, bandwidth }));
    const downloader = container.get(MediaDownloader);
    const start = Date.now();
    const results = await Promise.all(urls.map((url, i) => downloader.downloadImage(url, `p${i}`)));
    const seconds = (Date.now() - start) / 1000;
    await downloader.close();
    await container.get(DownloadLedger).close();
    for (const result of results) expect(result.checksum, result.errorMessage).to.equal(sha256(body));
    return seconds;
  };

  it('should take 1.5 MiB at 1 MiB/s in about 1.5 s (less the 0.2 s it may run ahead)', async () => {
    const seconds = await timed({ bytesPerSecond: MiB }, [`http://127.0.0.1:${port}/a.jpg`]);
    expect(seconds).to.be.within(1.2, 1.9);
  });

  it('should cap each host on its own: two hosts at 1 MiB/s each take no longer than one', async () => {
    // 127.0.0.1 and localhost are two hosts to the downloader, one server here.
    const seconds = await timed({ perHostBytesPerSecond: MiB }, [`http://127.0.0.1:${port}/a.jpg`, `http://localhost:${port}/b.jpg`]);
    expect(seconds).to.be.within(1.2, 1.9);
    const shared = await timed({ bytesPerSecond: MiB }, [`http://127.0.0.1:${port}/a.jpg`, `http://localhost:${port}/b.jpg`]);
    expect(shared).to.be.within(2.6, 3.6);
  });
});

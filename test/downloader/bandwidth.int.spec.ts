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
  const body = jpegBytes((3 * MiB) / 2, 5);
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

  // Lower bounds only: a cap is a promise never to go faster, which load cannot break. How much slower a busy
  // machine makes a run says nothing about the cap, so no upper bound on the time is asserted.
  it('should take 1.5 MiB at 1 MiB/s no faster than the cap allows (less the 0.2 s it may run ahead)', async () => {
    const seconds = await timed({ bytesPerSecond: MiB }, [`http://127.0.0.1:${port}/a.jpg`]);
    expect(seconds).to.be.at.least(1.2);
  });

  it('should cap each host on its own: two hosts at 1 MiB/s each take no longer than one', async () => {
    // 127.0.0.1 and localhost are two hosts to the downloader, one server here.
    const urls = [`http://127.0.0.1:${port}/a.jpg`, `http://localhost:${port}/b.jpg`];
    const perHost = await timed({ perHostBytesPerSecond: MiB }, urls);
    expect(perHost).to.be.at.least(1.2);
    // The same two files under one shared cap of 1 MiB/s: 3 MiB need 2.8 s at least, about twice the per-host run,
    // where each host has its own 1 MiB/s. Were the per-host caps one shared cap, both runs would take the same
    // time (a ratio near 1). Measured against each other on the same machine, not against the clock: load slows both.
    const shared = await timed({ bytesPerSecond: MiB }, urls);
    expect(shared).to.be.at.least(2.6);
    expect(shared / perHost, `shared ${shared} s, per host ${perHost} s`).to.be.at.least(1.3);
  });
});

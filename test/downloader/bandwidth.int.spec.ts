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
  /** Four loopback addresses, four hosts to the downloader: one server on each, all serving `body`. */
  const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const servers: Server[] = [];
  const urls: string[] = [];
  const temp = tempDir('tdl-cap-');

  before(async () => {
    for (const [i, host] of HOSTS.entries()) {
      const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body));
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      servers.push(server);
      urls.push(`http://${host}:${(server.address() as AddressInfo).port}/${i}.jpg`);
    }
  });
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
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

  /**
   * The least time `bytes` can take at `bytesPerSecond`: the cap lets bytes run 0.2 s ahead of it, and 0.1 s more
   * is left for the clock's granularity. A lower bound, which load cannot break: a cap is a promise never to go faster.
   */
  const atLeast = (bytes: number, bytesPerSecond: number): number => bytes / bytesPerSecond - 0.3;

  // Lower bounds: how much slower a busy machine makes a run says nothing about a cap. One upper bound, where it is
  // the property (per-host caps let hosts together go faster than one cap), with a margin no load comes near.
  it('should take 1.5 MiB at 1 MiB/s no faster than the cap allows', async () => {
    const seconds = await timed({ bytesPerSecond: MiB }, [urls[0]!]);
    expect(seconds).to.be.at.least(atLeast(body.length, MiB));
  });

  it('should cap each host on its own: four hosts at 1 MiB/s each, each no faster than its cap', async () => {
    const perHost = await timed({ perHostBytesPerSecond: MiB }, urls);
    // Each host is held to its cap: its 1.5 MiB take 1.5 s at the least, the four side by side.
    expect(perHost).to.be.at.least(atLeast(body.length, MiB));
    // And the caps are each host's own, not one shared by the four: one cap would let the 6 MiB through in no less
    // than 5.8 s (6 s, less the 0.2 s it may run ahead), four times what the run needs. No longer compared with a
    // second run: load adds seconds to both and closes the gap. Generous: a machine would have to add 4 s to a
    // 1.5 s run to break it, and the run's time includes no start-up.
    const oneSharedCap = (HOSTS.length * body.length) / MiB - 0.2;
    expect(perHost, 'four per-host caps took as long as one shared cap would').to.be.below(oneSharedCap);
  });

  it('should share one overall cap between hosts: four hosts under 2 MiB/s overall take the time 6 MiB need at 2 MiB/s', async () => {
    // Were the cap applied to each host, the four would take 0.75 s.
    const shared = await timed({ bytesPerSecond: 2 * MiB }, urls);
    expect(shared).to.be.at.least(atLeast(HOSTS.length * body.length, 2 * MiB));
  });
});

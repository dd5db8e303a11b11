import 'reflect-metadata';
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Container } from 'inversify';
import type { DownloaderConfigInput } from '../../src/config/downloader-config.js';
import { MediaDownloader } from '../../src/downloader/media-downloader.js';
import { DownloadLedger } from '../../src/ledger/download-ledger.js';
import { downloaderModule } from '../../src/module.js';
import { FakeWayback } from '../support/fake-wayback.js';
import { jpegBytes, sha256, tempDir } from '../support/fixtures.js';
import { useRealSockets } from '../support/nock-helpers.js';

describe('fallback URLs against a real loopback server', () => {
  useRealSockets();
  const jpeg = jpegBytes(8192, 3);
  const seen: string[] = [];
  let server: Server;
  let base = '';
  const wayback = new FakeWayback();
  let waybackBase = '';
  const temp = tempDir('tdl-fallback-');

  before(async () => {
    // Tumblr's sizes of one photo: the largest is gone, the next is a page, the 1280 is there.
    server = createServer((req, res) => {
      seen.push(req.url!);
      if (req.url!.includes('s2048x3072') || req.url!.includes('gone')) return void res.writeHead(404).end();
      if (req.url!.includes('s1280x1920')) return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end('<!doctype html><title>Not here</title>');
      if (req.url!.includes('busy')) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    waybackBase = await wayback.start();
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await wayback.stop();
    temp.cleanup();
  });

  const open = (dir: string, extra: Partial<DownloaderConfigInput> = {}) => {
    const container = new Container();
    container.load(
      downloaderModule({
        outputDir: path.join(temp.dir, dir),
        rateLimit: { requestsPerSecond: 0 },
        retry: { maxRetries: 0 },
        ledger: { path: path.join(temp.dir, dir, 'ledger.sqlite') },
        onExisting: 'skip',
        ...extra,
      }),
    );
    return {
      downloader: container.get(MediaDownloader),
      close: async () => {
        await container.get(MediaDownloader).close();
        await container.get(DownloadLedger).close();
      },
    };
  };

  it('should try each URL in order past a 404 and a page, keep the item under the first URL, and skip it on a re-run with no request', async () => {
    const [best, next, ok] = ['tumblr_x_s2048x3072.jpg', 'tumblr_x_s1280x1920.jpg', 'tumblr_x_1280.jpg'].map((n) => `${base}/${n}`) as [string, string, string];
    const first = open('a');
    const result = await first.downloader.downloadImage(best, '42', { fallbackUrls: [next, ok] });
    await first.close();
    expect(result).to.include({ status: 'success', url: best, servedUrl: ok, candidateIndex: 2, checksum: sha256(jpeg), attempts: 3 });
    const again = open('a');
    seen.length = 0;
    const rerun = await again.downloader.downloadImage(best, '42', { fallbackUrls: [next, ok] });
    await again.close();
    expect(rerun).to.include({ status: 'success', skipped: true, filename: result.filename });
    expect(seen).to.deep.equal([]);
  });

  it('should not try the next URL past a failure a fallback cannot mend (a 503 after its retries)', async () => {
    const { downloader, close } = open('b');
    seen.length = 0;
    const result = await downloader.downloadImage(`${base}/busy.jpg`, '7', { fallbackUrls: [`${base}/ok.jpg`] });
    await close();
    expect(result).to.include({ status: 'error', errorCode: 'HTTP_ERROR' });
    expect(seen).to.deep.equal(['/busy.jpg']);
    // The message says how many of the item's URLs were asked, so a fallback left untried is no surprise.
    expect(result.errorMessage).to.match(/; 1 of 2 URLs tried$/);
  });

  it('should say every URL was missing, then try the Wayback Machine for those on a Tumblr host', async () => {
    const gone = [`${base}/gone-1.jpg`, `${base}/gone-2.jpg`];
    wayback.capture(gone[1]!, { timestamp: '20200101000000', body: jpeg, contentType: 'image/jpeg' });
    const plain = open('c');
    const missing = await plain.downloader.downloadImage(gone[0]!, '8', { fallbackUrls: [gone[1]!] });
    await plain.close();
    expect(missing.status).to.equal('missing');
    expect(missing.errorMessage).to.match(/2 of 2 URLs tried$/);
    const archived = open('d', { tumblrHosts: ['127.0.0.1'], wayback: { enabled: true, endpoint: waybackBase } });
    const result = await archived.downloader.downloadImage(gone[0]!, '8', { fallbackUrls: [gone[1]!] });
    await archived.close();
    expect(result).to.include({ status: 'success', source: 'internet_archive', servedUrl: gone[1], candidateIndex: 1, captureTimestamp: '20200101000000' });
  });

  it('should refuse a call whose fallback is not an http(s) URL, before any request', async () => {
    const { downloader, close } = open('e');
    seen.length = 0;
    const result = await downloader.downloadImage(`${base}/ok.jpg`, '9', { fallbackUrls: ['ftp://mirror/x.jpg'] });
    await close();
    expect(result).to.include({ status: 'error', errorCode: 'INVALID_URL' });
    expect(seen).to.deep.equal([]);
  });
});

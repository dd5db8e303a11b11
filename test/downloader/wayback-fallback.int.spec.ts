import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import type { WaybackConfig } from '../../src/config/downloader-config.js';
import { DownloadLedger } from '../../src/ledger/download-ledger.js';
import { MemoryDownloadLedger } from '../../src/ledger/memory-download-ledger.js';
import { PIXEL_GIFS_BASE64 } from '../../src/verify/known-placeholders.js';
import { FakeWayback } from '../support/fake-wayback.js';
import { jpegBytes, sha256, listOutput } from '../support/fixtures.js';
import { assertNockDoneAndClean, TUMBLR } from '../support/nock-helpers.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

const PATH = '/gone/tumblr_gone_1280.jpg';
const GONE = `${TUMBLR}${PATH}`;

describe('Wayback fallback (local fake archive)', () => {
  let wayback: FakeWayback;
  let endpoint: string;
  let rig: TestRig;

  function rigWith(config: Partial<WaybackConfig>, maxRetries = 0): TestRig {
    return createTestRig({ wayback: { endpoint, ...config }, retry: { maxRetries } }, (c) => {
      c.rebind(DownloadLedger).to(MemoryDownloadLedger).inSingletonScope();
    });
  }

  beforeEach(async () => {
    wayback = new FakeWayback();
    endpoint = await wayback.start();
    rig = rigWith({ enabled: true });
  });

  afterEach(async () => {
    await rig.cleanup();
    await wayback.stop();
    assertNockDoneAndClean();
  });

  it('should fetch the newest usable capture of media Tumblr says is gone, refusing an archived HTML page', async () => {
    const image = jpegBytes(6000);
    wayback.capture(GONE, { timestamp: '20180101000000', body: jpegBytes(6000, 9), contentType: 'image/jpeg' });
    wayback.capture(GONE, { timestamp: '20190101000000', body: image, contentType: 'image/jpeg' });
    wayback.capture(GONE, { timestamp: '20200101000000', body: Buffer.from('<!doctype html><title>Not Found</title>'), contentType: 'text/html' });
    nock(TUMBLR).get(PATH).reply(404);
    const result = await rig.downloader.downloadImage(GONE, '42');
    expect(result).to.include({ status: 'success', source: 'internet_archive', mediaMissingOnTumblr: true, captureTimestamp: '20190101000000' });
    expect(result.checksum).to.equal(sha256(image));
    expect(readFileSync(result.filename).equals(image)).to.equal(true);
    const cdx = new URL(wayback.requests[0]!, endpoint);
    expect(cdx.pathname).to.equal('/cdx/search/cdx');
    expect(Object.fromEntries(cdx.searchParams)).to.deep.include({ url: GONE, output: 'json', filter: 'statuscode:200', limit: '-3' });
    expect(wayback.requests.slice(1)).to.deep.equal([`/web/20200101000000id_/${GONE}`, `/web/20190101000000id_/${GONE}`]);
    const ledger = rig.container.get<MemoryDownloadLedger>(DownloadLedger);
    expect(await ledger.lookup(GONE)).to.include({ source: 'internet_archive', captureTimestamp: '20190101000000', status: 'success' });
  });

  it('should refuse a captured placeholder and report the media missing, with what the archive said', async () => {
    wayback.capture(GONE, { timestamp: '20190101000000', body: Buffer.from(PIXEL_GIFS_BASE64[0]!, 'base64'), contentType: 'image/gif' });
    nock(TUMBLR).get(PATH).reply(410);
    const result = await rig.downloader.downloadImage(GONE, '42');
    expect(result).to.include({ status: 'missing', source: 'tumblr', mediaMissingOnTumblr: true, errorCode: 'MEDIA_NOT_FOUND' });
    expect(result.errorMessage).to.match(/HTTP 410.*Wayback capture 20190101000000 refused/);
    expect(result).to.not.have.property('captureTimestamp');
    expect(listOutput(rig.dir)).to.deep.equal([]);
  });

  it('should report missing with "no Wayback capture" when the archive has none', async () => {
    nock(TUMBLR).get(PATH).reply(404);
    const result = await rig.downloader.downloadImage(GONE, '42');
    expect(result).to.include({ status: 'missing', mediaMissingOnTumblr: true });
    expect(result.errorMessage).to.match(/no Wayback capture/);
  });

  it('should retry an archive that is down on the virtual clock, then report missing, not failed', async () => {
    await rig.cleanup();
    rig = rigWith({ enabled: true }, 2);
    wayback.cdxStatus = 503;
    nock(TUMBLR).get(PATH).reply(404);
    const result = await rig.downloader.downloadImage(GONE, '42');
    expect(result).to.include({ status: 'missing', mediaMissingOnTumblr: true });
    expect(result.errorMessage).to.match(/Wayback lookup failed: HTTP 503/);
    expect(wayback.requests.filter((r) => r.startsWith('/cdx/'))).to.have.length(3);
  });

  it('should report missing when the CDX answer is not JSON', async () => {
    wayback.cdxBody = '<html><body>Service unavailable</body></html>';
    nock(TUMBLR).get(PATH).reply(404);
    const result = await rig.downloader.downloadImage(GONE, '42');
    expect(result).to.include({ status: 'missing', mediaMissingOnTumblr: true });
    expect(result.errorMessage).to.match(/Wayback lookup failed: the CDX answer is not JSON/);
  });

  it('should not ask the archive when the option is off (the default), or for hosts that are not Tumblr', async () => {
    await rig.cleanup();
    rig = rigWith({ enabled: false });
    wayback.capture(GONE, { timestamp: '20190101000000', body: jpegBytes(6000), contentType: 'image/jpeg' });
    nock(TUMBLR).get(PATH).reply(404);
    expect((await rig.downloader.downloadImage(GONE, '42')).status).to.equal('missing');
    await rig.cleanup();
    rig = rigWith({ enabled: true });
    nock('https://example.org').get('/x.jpg').reply(404);
    expect((await rig.downloader.downloadImage('https://example.org/x.jpg', '42')).status).to.equal('missing');
    expect(wayback.requests).to.deep.equal([]);
  });
});

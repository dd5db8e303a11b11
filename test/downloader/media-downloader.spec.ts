import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import nock from 'nock';
import { DefaultMediaDownloader } from '../../src/downloader/media-downloader.js';
import { DownloadEvents } from '../../src/events/download-events.js';
import { DefaultFilenameGenerator, FilenameGenerator } from '../../src/naming/filename-generator.js';
import { PIXEL_GIFS_BASE64 } from '../../src/verify/known-placeholders.js';
import { gifBytes, jpegBytes, mp4Bytes, pngBytes, sha256, listOutput } from '../support/fixtures.js';
import { assertNockDoneAndClean, mediaHeaders, TUMBLR } from '../support/nock-helpers.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

const IMAGE_PATH = '/abc123/s1280x1920/tumblr_photo_1280.jpg';
const IMAGE_URL = `${TUMBLR}${IMAGE_PATH}`;

describe(DefaultMediaDownloader.name, () => {
  let rig: TestRig;

  beforeEach(() => {
    rig = createTestRig();
  });

  afterEach(async () => {
    await rig.cleanup();
    assertNockDoneAndClean();
  });

  /** Files in the output dir (recursively), sorted. */
  const files = (): string[] => listOutput(rig.dir, { recursive: true });

  describe('.downloadImage', () => {
    it('should store the verified bytes under the generated name and report success', async () => {
      const body = jpegBytes(4096);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadImage(IMAGE_URL, '777', { index: 1, metadata: { blog: 'staff' } });
      expect(result).to.include({ status: 'success', byteSize: 4096, checksum: sha256(body), source: 'tumblr', attempts: 1, postId: '777' });
      expect(result.mediaMissingOnTumblr).to.equal(false);
      expect(result.metadata).to.deep.equal({ blog: 'staff' });
      expect(path.basename(result.filename)).to.equal(rig.downloader.generateFilename(IMAGE_URL, '777', 'image', 1));
      expect(readFileSync(result.filename).equals(body)).to.equal(true);
      expect(files()).to.deep.equal([path.basename(result.filename)]);
    });

    it('should emit queued → started → progress… → verified → completed with consistent payloads', async () => {
      const body = jpegBytes(3000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadImage(IMAGE_URL, '9');
      expect(rig.recorder.names()).to.deep.equal(['queued', 'started', 'verified', 'completed']);
      expect(rig.recorder.names({ withProgress: true })).to.include('progress');
      const ids = new Set(rig.recorder.events.map((e) => e.payload.id));
      expect(ids.size).to.equal(1);
      for (const { payload } of rig.recorder.events) expect(payload).to.include({ url: IMAGE_URL, postId: '9', mediaType: 'image' });
      expect(rig.recorder.of('verified')[0]?.sha256).to.equal(sha256(body));
      expect(rig.recorder.of('completed')[0]?.result).to.deep.equal(result);
      const lastProgress = rig.recorder.of('progress').at(-1);
      expect(lastProgress).to.include({ bytes: 3000, total: 3000 });
    });

    it('should take the extension from Content-Type when the URL has none', async () => {
      const body = jpegBytes(2000);
      nock(TUMBLR).get('/media/noext').reply(200, body, mediaHeaders(body, 'image/jpeg'));
      const result = await rig.downloader.downloadImage(`${TUMBLR}/media/noext`, '5');
      expect(result.status).to.equal('success');
      expect(result.filename).to.match(/^.*5_0_[0-9a-f]{8}\.jpg$/);
      expect(files()).to.deep.equal([path.basename(result.filename)]);
    });

    it('should keep a hostile post id inside outputDir', async () => {
      const body = jpegBytes(2000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadImage(IMAGE_URL, '../../etc/passwd');
      expect(result.status).to.equal('success');
      expect(path.dirname(result.filename)).to.equal(rig.dir);
      expect(existsSync(path.join(rig.dir, '..', '..', 'etc', 'passwd_0.jpg'))).to.equal(false);
    });

    it("should give a FilenameGenerator the item's metadata, so a blog folder needs no smuggling", async () => {
      await rig.cleanup();
      rig = createTestRig({}, (c) =>
        c.rebind(FilenameGenerator).toConstantValue({
          generateFilename: (context) => `${String(context.metadata?.blog)}/${context.postId}/${new DefaultFilenameGenerator().generateFilename(context)}`,
        }),
      );
      const body = jpegBytes(4096);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadImage(IMAGE_URL, '777', { metadata: { blog: 'staff' } });
      expect(result.status).to.equal('success');
      expect(path.relative(rig.dir, result.filename)).to.match(/^staff\/777\/777_0_[0-9a-f]{8}\.jpg$/);
    });

    it('should warn extension-mismatch when a host generator names PNG bytes .jpg, and refuse a name in the state folder', async () => {
      await rig.cleanup();
      rig = createTestRig({}, (c) =>
        c.rebind(FilenameGenerator).toConstantValue({ generateFilename: ({ postId, index }) => (postId === 'state' ? `.tumblr-dl/${index}.jpg` : `${postId}-${index}.jpg`) }),
      );
      const png = pngBytes(4096);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, png, mediaHeaders(png, 'image/png'));
      const result = await rig.downloader.downloadImage(IMAGE_URL, '5');
      expect(result).to.include({ status: 'success', detectedFormat: 'png' });
      expect(path.basename(result.filename)).to.equal('5-0.jpg');
      expect(result.warnings).to.deep.equal(['extension-mismatch']);
      const refused = await rig.downloader.downloadImage(`${TUMBLR}/other.jpg`, 'state');
      expect(refused).to.include({ status: 'error', errorCode: 'UNSAFE_PATH', attempts: 0 });
    });

    it('should fetch a URL asked for three times at once only once, every result naming the one file', async () => {
      const body = jpegBytes(2000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const results = await Promise.all([1, 2, 3].map(() => rig.downloader.downloadImage(IMAGE_URL, '1')));
      expect(new Set(results.map((r) => r.filename)).size).to.equal(1);
      expect(results.map((r) => r.status)).to.deep.equal(['success', 'success', 'success']);
      expect(results.filter((r) => r.skipped)).to.have.length(2);
      expect(files()).to.deep.equal([path.basename(results[0]!.filename)]);
    });

    it('should never overwrite an existing file: the new one gets a suffix', async () => {
      const body = jpegBytes(2000);
      const existing = path.join(rig.dir, rig.downloader.generateFilename(IMAGE_URL, '1', 'image'));
      writeFileSync(existing, 'precious');
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(result.filename).to.match(/_1\.jpg$/);
      expect(readFileSync(existing, 'utf8')).to.equal('precious');
    });
  });

  describe('onExisting: skip', () => {
    it('should report an existing file without a request, and download what is missing', async () => {
      await rig.cleanup();
      rig = createTestRig({ onExisting: 'skip' });
      const body = jpegBytes(2000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const first = await rig.downloader.downloadImage(IMAGE_URL, '1');
      // No second interceptor: a request now would fail the test.
      const again = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(first.skipped).to.equal(undefined);
      expect(again).to.include({ status: 'success', skipped: true, filename: first.filename, checksum: sha256(body), attempts: 0 });
      expect(files()).to.deep.equal([path.basename(first.filename)]);
    });
  });

  describe('.downloadVideo / .downloadGif', () => {
    it('should download a video and a gif with their own checks', async () => {
      const video = mp4Bytes(8192);
      const gif = gifBytes(600);
      nock(TUMBLR).get('/v/tumblr_v.mp4').reply(200, video, mediaHeaders(video, 'video/mp4'));
      nock(TUMBLR).get('/g/tumblr_g.gif').reply(200, gif, mediaHeaders(gif, 'image/gif'));
      const [v, g] = await Promise.all([rig.downloader.downloadVideo(`${TUMBLR}/v/tumblr_v.mp4`, '1'), rig.downloader.downloadGif(`${TUMBLR}/g/tumblr_g.gif`, '1')]);
      expect(v).to.include({ status: 'success', checksum: sha256(video) });
      expect(g).to.include({ status: 'success', checksum: sha256(gif) });
    });

    it('should keep an image served where a video was asked for, named and reported as what it is', async () => {
      const body = jpegBytes(4000);
      nock(TUMBLR).get('/v/tumblr_v.mp4').reply(200, body, mediaHeaders(body, 'image/jpeg'));
      const result = await rig.downloader.downloadVideo(`${TUMBLR}/v/tumblr_v.mp4`, '1');
      expect(result).to.include({ status: 'success', detectedFormat: 'jpeg', detectedMediaType: 'image', formatVerified: true });
      expect(files()).to.deep.equal([path.basename(result.filename)]);
      expect(result.filename).to.match(/^.*\/1_0_[0-9a-f]{8}\.jpg$/);
    });
  });

  describe('.downloadFile', () => {
    it('should write to a relative path, pass metadata, and call progressCallback up to the total', async () => {
      const body = jpegBytes(10_000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const calls: Array<[number, number | undefined]> = [];
      const result = await rig.downloader.downloadFile(IMAGE_URL, 'blog/a.jpg', {
        metadata: { k: 1 },
        progressCallback: (bytes, total) => calls.push([bytes, total]),
      });
      expect(result.filename).to.equal(path.join(rig.dir, 'blog', 'a.jpg'));
      expect(result.metadata).to.deep.equal({ k: 1 });
      expect(calls.at(-1)).to.deep.equal([10_000, 10_000]);
      expect(calls.every(([b], i) => i === 0 || b >= calls[i - 1]![0])).to.equal(true);
    });

    it('should fail on an expectedChecksum mismatch and leave nothing behind', async () => {
      const body = jpegBytes(2000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadFile(IMAGE_URL, 'a.jpg', { expectedChecksum: 'f'.repeat(64) });
      expect(result).to.include({ status: 'error', errorCode: 'INTEGRITY', checksum: '', byteSize: 0 });
      expect(files()).to.deep.equal([]);
    });

    it('should accept a matching expectedChecksum', async () => {
      const body = jpegBytes(2000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadFile(IMAGE_URL, 'a.jpg', { expectedChecksum: sha256(body) });
      expect(result.status).to.equal('success');
    });

    for (const hostile of ['../escape.jpg', '/etc/cron.d/x.jpg', 'a/../../b.jpg']) {
      it(`should refuse the path ${hostile} without a request or a file`, async () => {
        const result = await rig.downloader.downloadFile(IMAGE_URL, hostile);
        expect(result).to.include({ status: 'error', errorCode: 'UNSAFE_PATH', attempts: 0 });
        expect(rig.recorder.names()).to.deep.equal(['failed']);
      });
    }
  });

  describe('bad input', () => {
    for (const url of ['not a url', 'file:///etc/passwd', 'data:image/png;base64,AAAA', 'ftp://x.test/a.jpg', '']) {
      it(`should refuse ${JSON.stringify(url)} with INVALID_URL and write nothing`, async () => {
        const result = await rig.downloader.downloadImage(url, '1');
        expect(result).to.include({ status: 'error', errorCode: 'INVALID_URL', attempts: 0 });
        expect(rig.recorder.of('failed')[0]?.error.code).to.equal('INVALID_URL');
        expect(files()).to.deep.equal([]);
      });
    }

    it('should refuse a redirect to a non-http scheme', async () => {
      nock(TUMBLR).get(IMAGE_PATH).reply(302, '', { location: 'file:///etc/passwd' });
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(result.status).to.equal('error');
      expect(result.attempts).to.equal(1);
      expect(files()).to.deep.equal([]);
    });

    it('should abort and delete a response larger than maxFileSize', async () => {
      await rig.cleanup();
      rig = createTestRig({ maxFileSize: 5000 });
      const body = jpegBytes(6000);
      // No Content-Length: the cap must hold while streaming, not just on the header.
      nock(TUMBLR)
        .get(IMAGE_PATH)
        .reply(200, () => body, { 'content-type': 'image/jpeg', etag: '"e"' });
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(result).to.include({ status: 'error', errorCode: 'FILE_TOO_LARGE' });
      expect(files()).to.deep.equal([]);
    });

    it('should refuse up front when Content-Length exceeds maxFileSize', async () => {
      await rig.cleanup();
      rig = createTestRig({ maxFileSize: 5000 });
      const body = jpegBytes(6000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(result).to.include({ errorCode: 'FILE_TOO_LARGE', attempts: 1 });
      expect(files()).to.deep.equal([]);
    });
  });

  describe('missing media', () => {
    for (const status of [404, 403, 410]) {
      it(`should report ${status} from Tumblr as missing, mediaMissingOnTumblr, without retrying`, async () => {
        nock(TUMBLR).get(IMAGE_PATH).reply(status, 'gone', { 'content-type': 'text/html' });
        const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
        expect(result).to.include({ status: 'missing', mediaMissingOnTumblr: true, errorCode: 'MEDIA_NOT_FOUND', attempts: 1 });
        expect(rig.recorder.names()).to.deep.equal(['queued', 'started', 'missing']);
        expect(files()).to.deep.equal([]);
      });
    }

    it('should not claim Tumblr lost media that another host lacks', async () => {
      nock('https://example.org').get('/a.jpg').reply(404);
      const result = await rig.downloader.downloadImage('https://example.org/a.jpg', '1');
      expect(result).to.include({ status: 'missing', mediaMissingOnTumblr: false, source: 'origin' });
    });
  });

  describe('integrity', () => {
    it('should reject HTML served as an image without retrying and leave no file', async () => {
      const page = Buffer.from('<!doctype html><title>Not found</title>'.padEnd(3000, ' '));
      nock(TUMBLR).get(IMAGE_PATH).reply(200, page, { 'content-type': 'text/html; charset=utf-8' });
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(result).to.include({ status: 'error', errorCode: 'INTEGRITY', attempts: 1 });
      expect(result.errorMessage).to.match(/text\/html/);
      expect(rig.recorder.of('failed')[0]?.error).to.have.property('failure', 'HTML_INSTEAD_OF_MEDIA');
      expect(files()).to.deep.equal([]);
    });

    it('should reject a known placeholder image', async () => {
      const pixel = Buffer.from(PIXEL_GIFS_BASE64[0], 'base64');
      nock(TUMBLR).get('/g/tumblr_g.gif').reply(200, pixel, mediaHeaders(pixel, 'image/gif'));
      const result = await rig.downloader.downloadGif(`${TUMBLR}/g/tumblr_g.gif`, '1');
      expect(result).to.include({ status: 'error', errorCode: 'INTEGRITY' });
      expect(rig.recorder.of('failed')[0]?.error).to.have.property('failure', 'PLACEHOLDER');
      expect(files()).to.deep.equal([]);
    });

    it('should reject image/jpeg whose bytes are not a JPEG', async () => {
      const body = Buffer.alloc(3000, 0x41);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(rig.recorder.of('failed')[0]?.error).to.have.property('failure', 'MAGIC_MISMATCH');
      expect(result.status).to.equal('error');
    });

    it('should undo a Content-Encoding the server applied despite identity', async () => {
      const body = jpegBytes(5000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, gzipSync(body), { 'content-type': 'image/jpeg', 'content-encoding': 'gzip' });
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(result).to.include({ status: 'success', byteSize: 5000, checksum: sha256(body) });
    });
  });

  describe('retries', () => {
    it('should retry a 5xx burst and then succeed, announcing each retry before waiting', async () => {
      const body = jpegBytes(2000);
      nock(TUMBLR).get(IMAGE_PATH).reply(500).get(IMAGE_PATH).reply(502).get(IMAGE_PATH).reply(503);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(result).to.include({ status: 'success', attempts: 4 });
      const retrying = rig.recorder.of('retrying');
      expect(retrying.map((r) => r.attempt)).to.deep.equal([1, 2, 3]);
      expect(retrying.map((r) => r.code)).to.deep.equal(['HTTP_ERROR', 'HTTP_ERROR', 'HTTP_ERROR']);
      expect(rig.clock.sleeps).to.have.length(3);
      for (const [i, delay] of rig.clock.sleeps.entries()) expect(delay).to.equal(retrying[i]!.delayMs);
    });

    it('should give up after maxRetries + 1 attempts with the last error', async () => {
      nock(TUMBLR).get(IMAGE_PATH).times(4).reply(503);
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(result).to.include({ status: 'error', errorCode: 'HTTP_ERROR', attempts: 4 });
      expect(result.errorMessage).to.match(/503/);
    });

    for (const status of [400, 401]) {
      it(`should not retry ${status}`, async () => {
        nock(TUMBLR).get(IMAGE_PATH).reply(status);
        const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
        expect(result).to.include({ status: 'error', attempts: 1 });
      });
    }

    it('should wait out a 429 Retry-After, cool the host down, then succeed', async () => {
      const body = jpegBytes(2000);
      nock(TUMBLR).get(IMAGE_PATH).reply(429, '', { 'retry-after': '2' });
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const start = rig.clock.now();
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1');
      expect(result.status).to.equal('success');
      const limited = rig.recorder.of('rate-limited');
      expect(limited).to.have.length(1);
      expect(limited[0]).to.include({ host: '64.media.tumblr.com', untilMs: start + 2000 });
      expect(rig.recorder.of('retrying')[0]?.delayMs).to.equal(2000);
      expect(rig.recorder.names()).to.deep.equal(['queued', 'started', 'rate-limited', 'retrying', 'verified', 'completed']);
    });
  });

  describe('resume from an earlier run', () => {
    /** Leave a `.part` and sidecar as a killed run would have. */
    function leavePart(body: Buffer, kept: number, state: Record<string, unknown> = {}): string {
      const target = path.join(rig.dir, 'a.jpg');
      writeFileSync(`${target}.part`, body.subarray(0, kept));
      writeFileSync(`${target}.part.json`, JSON.stringify({ url: IMAGE_URL, etag: '"v1"', contentLength: body.length, bytes: kept, ...state }));
      return target;
    }

    it('should send Range and If-Range with the stored ETag and append only the rest', async () => {
      const body = jpegBytes(10_000);
      leavePart(body, 6000);
      nock(TUMBLR, { reqheaders: { range: 'bytes=6000-', 'if-range': '"v1"' } })
        .get(IMAGE_PATH)
        .reply(206, body.subarray(6000), { ...mediaHeaders(body.subarray(6000)), 'content-range': 'bytes 6000-9999/10000' });
      const result = await rig.downloader.downloadWithResume(IMAGE_URL, 'a.jpg');
      expect(result).to.include({ status: 'success', checksum: sha256(body), byteSize: 10_000, resumedFromByte: 6000 });
      expect(files()).to.deep.equal(['a.jpg']);
    });

    it('should use Last-Modified for If-Range when the ETag is weak', async () => {
      const body = jpegBytes(10_000);
      const lastModified = 'Tue, 01 Sep 2026 10:00:00 GMT';
      leavePart(body, 4000, { etag: 'W/"weak"', lastModified });
      nock(TUMBLR, { reqheaders: { 'if-range': lastModified } })
        .get(IMAGE_PATH)
        .reply(206, body.subarray(4000), { ...mediaHeaders(body.subarray(4000)), 'content-range': 'bytes 4000-9999/10000' });
      const result = await rig.downloader.downloadWithResume(IMAGE_URL, 'a.jpg');
      expect(result.checksum).to.equal(sha256(body));
    });

    it('should restart from zero, not append, when the server ignores Range and sends 200', async () => {
      const body = jpegBytes(10_000);
      leavePart(body, 6000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadWithResume(IMAGE_URL, 'a.jpg');
      expect(result).to.include({ status: 'success', byteSize: 10_000, checksum: sha256(body), resumedFromByte: 0 });
      expect(rig.recorder.of('resumed')).to.have.length(0);
    });

    it('should discard the part and start over when a 206 starts at the wrong offset', async () => {
      const body = jpegBytes(10_000);
      leavePart(body, 6000);
      nock(TUMBLR)
        .get(IMAGE_PATH)
        .reply(206, body.subarray(5000), { ...mediaHeaders(body.subarray(5000)), 'content-range': 'bytes 5000-9999/10000' });
      nock(TUMBLR, { badheaders: ['range'] })
        .get(IMAGE_PATH)
        .reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadWithResume(IMAGE_URL, 'a.jpg');
      expect(result).to.include({ status: 'success', checksum: sha256(body), attempts: 2 });
      expect(rig.recorder.of('retrying')[0]?.code).to.equal('RANGE_MISMATCH');
    });

    it('should not resume a part whose sidecar names another URL', async () => {
      const body = jpegBytes(10_000);
      leavePart(body, 6000, { url: 'https://elsewhere.test/x.jpg' });
      nock(TUMBLR, { badheaders: ['range', 'if-range'] })
        .get(IMAGE_PATH)
        .reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadWithResume(IMAGE_URL, 'a.jpg');
      expect(result).to.include({ status: 'success', checksum: sha256(body) });
    });

    it('should not resume when resume is off, and drop the stale part', async () => {
      const body = jpegBytes(10_000);
      leavePart(body, 6000);
      nock(TUMBLR, { badheaders: ['range'] })
        .get(IMAGE_PATH)
        .reply(200, body, mediaHeaders(body));
      const result = await rig.downloader.downloadFile(IMAGE_URL, 'a.jpg', { resume: false });
      expect(result.checksum).to.equal(sha256(body));
      expect(files()).to.deep.equal(['a.jpg']);
    });
  });

  describe('concurrency', () => {
    /** Run `count` downloads from one host and return the most that ran at once. */
    async function peakConcurrency(count: number): Promise<number> {
      const body = jpegBytes(1000);
      nock(TUMBLR)
        .get(/\/many\/\d+\.jpg/)
        .times(count)
        .delay(5)
        .reply(200, body, mediaHeaders(body));
      let running = 0;
      let peak = 0;
      const events = rig.container.get<DownloadEvents>(DownloadEvents);
      events.on('started', () => (peak = Math.max(peak, ++running)));
      // A slot is held from 'started' until the bytes are in and verified (or the download fails):
      // making them durable and naming them happens outside it.
      for (const end of ['verified', 'failed', 'missing'] as const) events.on(end, () => running--);
      const results = await Promise.all(Array.from({ length: count }, (_, i) => rig.downloader.downloadImage(`${TUMBLR}/many/${i}.jpg`, String(i))));
      expect(results.every((r) => r.status === 'success')).to.equal(true);
      return peak;
    }

    it('should never run more than maxConcurrent downloads at once across 50 calls', async () => {
      await rig.cleanup();
      rig = createTestRig({ maxConcurrent: 3 });
      expect(await peakConcurrency(50)).to.equal(3);
    });

    it('should respect perHostConcurrency below the global limit', async () => {
      await rig.cleanup();
      rig = createTestRig({ maxConcurrent: 6, perHostConcurrency: 2 });
      expect(await peakConcurrency(10)).to.equal(2);
    });
  });

  describe('listeners, abort and close', () => {
    it('should finish a download even when a listener throws', async () => {
      const body = jpegBytes(2000);
      nock(TUMBLR).get(IMAGE_PATH).reply(200, body, mediaHeaders(body));
      const events = rig.container.get<DownloadEvents>(DownloadEvents);
      const onWarning = (): void => {};
      process.on('warning', onWarning);
      for (const name of ['queued', 'started', 'progress', 'verified', 'completed'] as const) {
        events.on(name, () => {
          throw new Error(`${name} listener bug`);
        });
      }
      const result = await rig.downloader.downloadImage(IMAGE_URL, '1', {
        progressCallback: () => {
          throw new Error('callback bug');
        },
      });
      process.off('warning', onWarning);
      expect(result.status).to.equal('success');
    });

    it('close() should refuse new work with a rejected promise carrying CLOSED', async () => {
      await rig.downloader.close();
      let error: unknown;
      const refused = rig.downloader.downloadImage(IMAGE_URL, '1'); // must not throw synchronously
      await refused.catch((e: unknown) => (error = e));
      expect(error).to.have.property('code', 'CLOSED');
    });

    it('close() should wait for running downloads to finish', async () => {
      const body = jpegBytes(2000);
      nock(TUMBLR).get(IMAGE_PATH).delay(30).reply(200, body, mediaHeaders(body));
      let settled = false;
      const running = rig.downloader.downloadImage(IMAGE_URL, '1').then((r) => ((settled = true), r));
      await rig.downloader.close();
      expect(settled).to.equal(true);
      expect((await running).status).to.equal('success');
    });

    it('await using should close the downloader at the end of the scope', async () => {
      {
        await using downloader = rig.downloader;
        void downloader;
      }
      let error: unknown;
      try {
        await rig.downloader.downloadImage(IMAGE_URL, '1');
      } catch (e) {
        error = e;
      }
      expect(error).to.have.property('code', 'CLOSED');
    });
  });
});

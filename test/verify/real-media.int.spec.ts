import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DownloadResult } from '../../src/model/download-result.js';
import { FaultServer, type FaultScript } from '../support/fault-server.js';
import { filler, gifBytes, jpegBytes, listOutput, mp4Bytes, pngBytes, sha256, webpBytes } from '../support/fixtures.js';
import { animatedWebp, apng, avif, jpegWithThumbnail, matroska, mp4MoovLast, oggOpus, progressiveJpeg } from '../support/media-samples.js';
import { useRealSockets } from '../support/nock-helpers.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

/** What Tumblr's CDN really serves, and what the downloader must keep (and call it). */
interface Served {
  name: string;
  path: string;
  kind: 'image' | 'video' | 'gif';
  script: FaultScript;
  /** Extension the saved file must have; `undefined` when the download must be refused. */
  keptAs?: string;
  detectedFormat?: string;
  detectedMediaType?: string;
  failure?: string;
}

const cases: Served[] = [
  {
    name: 'a PNG under .jpg, as image/png',
    path: '/tumblr_a_1280.jpg',
    kind: 'image',
    script: { body: pngBytes(5000), contentType: 'image/png' },
    keptAs: 'png',
    detectedFormat: 'png',
  },
  {
    name: 'a WebP under .jpg, as image/jpeg',
    path: '/tumblr_b_1280.jpg',
    kind: 'image',
    script: { body: webpBytes(5000), contentType: 'image/jpeg' },
    keptAs: 'webp',
    detectedFormat: 'webp',
  },
  {
    name: 'an animated WebP under .gifv',
    path: '/tumblr_c.gifv',
    kind: 'gif',
    script: { body: animatedWebp(), contentType: 'image/webp' },
    keptAs: 'webp',
    detectedFormat: 'webp',
  },
  {
    name: 'an MP4 under .gifv, asked for as a GIF (Tumblr GIF-to-video)',
    path: '/tumblr_d.gifv',
    kind: 'gif',
    script: { body: mp4MoovLast(), contentType: 'video/mp4' },
    keptAs: 'mp4',
    detectedFormat: 'mp4',
    detectedMediaType: 'video',
  },
  {
    name: 'an MP4 asked for as an image',
    path: '/tumblr_e_1280.jpg',
    kind: 'image',
    script: { body: mp4Bytes(9000), contentType: 'video/mp4' },
    keptAs: 'mp4',
    detectedFormat: 'mp4',
    detectedMediaType: 'video',
  },
  { name: 'a PNG under .pnj', path: '/tumblr_f_1280.pnj', kind: 'image', script: { body: apng(), contentType: 'image/png' }, keptAs: 'png', detectedFormat: 'apng' },
  { name: 'a JPEG under .pnj', path: '/tumblr_g_1280.pnj', kind: 'image', script: { body: jpegBytes(5000) }, keptAs: 'jpg', detectedFormat: 'jpeg' },
  { name: 'a JPEG under .png', path: '/tumblr_h_1280.png', kind: 'image', script: { body: progressiveJpeg(), contentType: 'image/png' }, keptAs: 'jpg', detectedFormat: 'jpeg' },
  { name: 'an AVIF, not an MP4', path: '/tumblr_i_1280.jpg', kind: 'image', script: { body: avif(), contentType: 'image/avif' }, keptAs: 'avif', detectedFormat: 'avif' },
  {
    name: 'a real JPEG as application/octet-stream',
    path: '/tumblr_j_1280.jpg',
    kind: 'image',
    script: { body: jpegWithThumbnail(), contentType: 'application/octet-stream' },
    keptAs: 'jpg',
    detectedFormat: 'jpeg',
  },
  { name: 'a GIF under .gif', path: '/tumblr_k.gif', kind: 'gif', script: { body: gifBytes(4000), contentType: 'image/gif' }, keptAs: 'gif', detectedFormat: 'gif' },
  {
    name: 'a progressive JPEG with a vendor trailer after EOI',
    path: '/tumblr_l_1280.jpg',
    kind: 'image',
    script: { body: progressiveJpeg(20_000, Buffer.from('SAMSUNG trailer: no markers in here, only text')) },
    keptAs: 'jpg',
    detectedFormat: 'jpeg',
  },
  { name: 'a WebM as video/webm', path: '/tumblr_q.webm', kind: 'video', script: { body: matroska('webm'), contentType: 'video/webm' }, keptAs: 'webm', detectedFormat: 'webm' },
  {
    name: 'a Matroska video as application/octet-stream',
    path: '/tumblr_r.mkv',
    kind: 'video',
    script: { body: matroska('matroska'), contentType: 'application/octet-stream' },
    keptAs: 'mkv',
    detectedFormat: 'mkv',
  },
  {
    name: 'an Ogg Opus stream as audio/ogg',
    path: '/tumblr_s.ogg',
    kind: 'video',
    script: { body: oggOpus({ audioPages: 4 }), contentType: 'audio/ogg' },
    keptAs: 'ogg',
    detectedFormat: 'ogg',
  },
  {
    name: 'HTML as application/octet-stream',
    path: '/tumblr_m_1280.jpg',
    kind: 'image',
    script: { body: Buffer.from(`<!DOCTYPE html><html><head><title>Tumblr</title></head><body>${'x'.repeat(4000)}</body></html>`), contentType: 'application/octet-stream' },
    failure: 'HTML_INSTEAD_OF_MEDIA',
  },
  {
    name: 'an SVG with a script, as image/svg+xml',
    path: '/tumblr_n_1280.jpg',
    kind: 'image',
    script: { body: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>${' '.repeat(400)}</svg>`), contentType: 'image/svg+xml' },
    failure: 'HTML_INSTEAD_OF_MEDIA',
  },
  {
    name: 'JSON as image/jpeg',
    path: '/tumblr_o_1280.jpg',
    kind: 'image',
    script: { body: Buffer.from(JSON.stringify({ meta: { status: 404 }, pad: 'x'.repeat(500) })) },
    failure: 'MAGIC_MISMATCH',
  },
  {
    name: 'unknown bytes as application/octet-stream',
    path: '/tumblr_p_1280.jpg',
    kind: 'image',
    script: { body: Buffer.concat([Buffer.from([0, 1, 2, 3]), filler(3000, 90)]), contentType: 'application/octet-stream' },
    failure: 'CONTENT_TYPE_MISMATCH',
  },
];

describe('Real media is kept and named by its bytes; non-media never is (real loopback server)', function () {
  this.timeout(20_000);
  let server: FaultServer;
  let base: string;
  let rig: TestRig;

  useRealSockets();

  beforeEach(async () => {
    rig = createTestRig({ retry: { maxRetries: 1 } });
    server = new FaultServer(() => rig.clock.now());
    base = await server.start();
  });

  afterEach(async () => {
    await rig.cleanup();
    await server.stop();
  });

  const fetch = (kind: Served['kind'], url: string): Promise<DownloadResult> =>
    kind === 'gif' ? rig.downloader.downloadGif(url, '7') : kind === 'video' ? rig.downloader.downloadVideo(url, '7') : rig.downloader.downloadImage(url, '7');

  for (const served of cases) {
    it(`should ${served.keptAs ? `keep ${served.name} as .${served.keptAs}` : `refuse ${served.name} and leave nothing`}`, async () => {
      server.script(served.path, served.script);
      const result = await fetch(served.kind, `${base}${served.path}`);
      if (served.keptAs) {
        expect(result.status, result.errorMessage).to.equal('success');
        expect(path.extname(result.filename)).to.equal(`.${served.keptAs}`);
        expect(path.basename(result.filename)).to.match(/^7_0_[0-9a-f]{8}\.[a-z0-9]+$/);
        expect(result).to.include({ detectedFormat: served.detectedFormat, formatVerified: true });
        if (served.detectedMediaType) expect(result.detectedMediaType).to.equal(served.detectedMediaType);
        expect(result.warnings).to.equal(undefined);
        expect(sha256(readFileSync(result.filename))).to.equal(sha256(served.script.body));
        expect(listOutput(rig.dir)).to.deep.equal([path.basename(result.filename)]);
        expect(rig.recorder.of('completed')[0]?.result.detectedFormat).to.equal(served.detectedFormat);
      } else {
        expect(result).to.include({ status: 'error', errorCode: 'INTEGRITY', attempts: 1 });
        expect(rig.recorder.of('failed')[0]?.error).to.have.property('failure', served.failure);
        expect(listOutput(rig.dir)).to.deep.equal([]);
      }
    });
  }

  it('should stop reading a large HTML body at its first bytes, not store it whole', async () => {
    server.script('/page.jpg', { body: Buffer.from(`<html>${'<p>ad</p>'.repeat(400_000)}</html>`), contentType: 'text/html' });
    const result = await rig.downloader.downloadImage(`${base}/page.jpg`, '7');
    expect(result).to.include({ status: 'error', errorCode: 'INTEGRITY' });
    expect(listOutput(rig.dir)).to.deep.equal([]);
    expect(rig.recorder.of('progress').every((e) => e.bytes < 1024 * 1024)).to.equal(true);
  });

  it('should keep an unknown binary whose Content-Type names the family, unverified, with a media extension', async () => {
    server.script('/icon.exe', { body: Buffer.concat([Buffer.from([0, 0, 1, 0]), filler(3000, 91)]), contentType: 'image/x-icon' });
    const result = await rig.downloader.downloadImage(`${base}/icon.exe`, '7');
    expect(result).to.include({ status: 'success', formatVerified: false });
    expect(result.warnings).to.deep.equal(['format-unverified']);
    expect(path.extname(result.filename)).to.equal('.jpg');
  });

  describe('a body cut short', () => {
    const whole = progressiveJpeg(40_000);
    const cut = whole.subarray(0, 30_000);

    it('should try a cut body without Content-Length once more, and take the whole one', async () => {
      server.script('/cut.jpg', { body: whole, chunked: true, bodyFor: (n) => (n === 1 ? cut : whole) });
      const result = await rig.downloader.downloadImage(`${base}/cut.jpg`, '7');
      expect(result).to.include({ status: 'success', attempts: 2, checksum: sha256(whole) });
      expect(result.warnings).to.equal(undefined);
      expect(rig.recorder.of('retrying')[0]?.reason).to.match(/ends before its structure/);
    });

    it('should keep the same cut bytes served twice without Content-Length, with a warning', async () => {
      server.script('/cut.jpg', { body: cut, chunked: true });
      const result = await rig.downloader.downloadImage(`${base}/cut.jpg`, '7');
      expect(result).to.include({ status: 'success', attempts: 2, checksum: sha256(cut) });
      expect(result.warnings).to.deep.equal(['truncated-at-origin']);
      expect(readFileSync(result.filename).equals(cut)).to.equal(true);
    });

    it('should keep cut bytes whose Content-Length matches at once, with a warning: the origin has nothing better', async () => {
      server.script('/cut.jpg', { body: cut });
      const result = await rig.downloader.downloadImage(`${base}/cut.jpg`, '7');
      expect(result).to.include({ status: 'success', attempts: 1 });
      expect(result.warnings).to.deep.equal(['truncated-at-origin']);
    });

    // Formats whose end is known from their structure, not an end marker: the Matroska Segment's size, the Ogg end-of-stream page.
    for (const [name, whole, contentType] of [
      ['WebM', matroska('webm'), 'video/webm'],
      ['Matroska video', matroska('matroska'), 'video/x-matroska'],
      ['Ogg stream', oggOpus({ audioPages: 4 }), 'audio/ogg'],
    ] as const) {
      const cutShort = whole.subarray(0, Math.floor(whole.length * 0.7));

      it(`should try a cut ${name} without Content-Length once more, and take the whole one`, async () => {
        server.script('/cut.media', { body: whole, contentType, chunked: true, bodyFor: (n) => (n === 1 ? cutShort : whole) });
        const result = await rig.downloader.downloadVideo(`${base}/cut.media`, '7');
        expect(result).to.include({ status: 'success', attempts: 2, checksum: sha256(whole) });
        expect(result.warnings).to.equal(undefined);
        expect(rig.recorder.of('retrying')[0]?.reason).to.match(/ends before its structure/);
      });

      it(`should keep the same cut ${name} served twice without Content-Length, with a warning`, async () => {
        server.script('/cut.media', { body: cutShort, contentType, chunked: true });
        const result = await rig.downloader.downloadVideo(`${base}/cut.media`, '7');
        expect(result).to.include({ status: 'success', attempts: 2, checksum: sha256(cutShort) });
        expect(result.warnings).to.deep.equal(['truncated-at-origin']);
      });
    }

    it('should tell a cut JPEG whose EXIF thumbnail has an EOI from a whole one', async () => {
      server.script('/thumb.jpg', { body: jpegWithThumbnail().subarray(0, 15_000) });
      const result = await rig.downloader.downloadImage(`${base}/thumb.jpg`, '7');
      expect(result.warnings).to.deep.equal(['truncated-at-origin']);
    });
  });

  describe('a body the server compresses although identity was asked', () => {
    it('should refuse a decompression bomb before it fills the disk', async () => {
      const bomb = Buffer.concat([jpegBytes(100), Buffer.alloc(200 * 1024 * 1024)]);
      server.script('/bomb.jpg', { body: bomb, gzip: true });
      expect(gzipSync(bomb).length).to.be.below(1024 * 1024);
      const result = await rig.downloader.downloadImage(`${base}/bomb.jpg`, '7');
      expect(result).to.include({ status: 'error', errorCode: 'FILE_TOO_LARGE' });
      expect(result.errorMessage).to.match(/inflates to more than 20×/);
      expect(listOutput(rig.dir)).to.deep.equal([]);
    });
  });
});

import { expect } from 'chai';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import { IntegrityError, type IntegrityFailure } from '../../src/errors/integrity-error.js';
import { PIXEL_GIFS_BASE64 } from '../../src/verify/known-placeholders.js';
import { detectFormat } from '../../src/verify/media-type.js';
import type { ContentFacts } from '../../src/verify/verification-facts.js';
import { DefaultVerifier } from '../../src/verify/verifier.js';
import { gifBytes, jpegBytes, mp4Bytes, pngBytes, sha256 } from '../support/fixtures.js';

const verifier = new DefaultVerifier(resolveDownloaderConfig({ outputDir: '/tmp/unused' }));

/** Facts of a good 2 KiB JPEG; tests change one thing at a time. */
function facts(overrides: Partial<ContentFacts> = {}, body = jpegBytes(2048)): ContentFacts {
  return {
    url: 'https://x.test/a.jpg',
    mediaType: 'image',
    contentType: 'image/jpeg',
    declaredSize: body.length,
    verifyContentType: true,
    extension: 'jpg',
    byteSize: body.length,
    sha256: sha256(body),
    head: body.subarray(0, 16),
    expectedChecksum: undefined,
    verifySize: true,
    resumed: false,
    ...overrides,
  };
}

async function failureOf(f: ContentFacts): Promise<IntegrityFailure | undefined> {
  try {
    verifier.checkResponse(f);
    await verifier.verify(f);
    return undefined;
  } catch (error) {
    expect(error).to.be.instanceOf(IntegrityError);
    return (error as IntegrityError).failure;
  }
}

describe(DefaultVerifier.name, () => {
  describe('.checkResponse', () => {
    it('should reject text/html for media before any byte is stored', () => {
      expect(() => verifier.checkResponse(facts({ contentType: 'text/html; charset=utf-8' })))
        .to.throw(IntegrityError)
        .with.property('failure', 'HTML_INSTEAD_OF_MEDIA');
    });

    it('should reject a content-type of the wrong family', () => {
      expect(() => verifier.checkResponse(facts({ contentType: 'video/mp4' }))).to.throw(IntegrityError).with.property('failure', 'CONTENT_TYPE_MISMATCH');
      expect(() => verifier.checkResponse(facts({ mediaType: 'video', contentType: 'image/jpeg' }))).to.throw(IntegrityError);
    });

    it('should let the caller turn the family check off, but never the HTML check', () => {
      expect(() => verifier.checkResponse(facts({ contentType: 'video/mp4', verifyContentType: false }))).to.not.throw();
      expect(() => verifier.checkResponse(facts({ contentType: 'text/html', verifyContentType: false }))).to.throw(IntegrityError);
    });

    it('should accept generic or missing types and leave the decision to magic bytes', () => {
      expect(() => verifier.checkResponse(facts({ contentType: 'application/octet-stream' }))).to.not.throw();
      expect(() => verifier.checkResponse(facts({ contentType: undefined }))).to.not.throw();
    });
  });

  describe('.verify', () => {
    it('should accept a well-formed JPEG, PNG, GIF, MP4 and WebM', async () => {
      expect(await failureOf(facts())).to.equal(undefined);
      const png = pngBytes(500);
      expect(await failureOf(facts({ extension: 'png', contentType: 'image/png' }, png))).to.equal(undefined);
      const gif = gifBytes(300);
      expect(await failureOf(facts({ extension: 'gif', mediaType: 'gif', contentType: 'image/gif' }, gif))).to.equal(undefined);
      const mp4 = mp4Bytes(4096);
      expect(await failureOf(facts({ extension: 'mp4', mediaType: 'video', contentType: 'video/mp4' }, mp4))).to.equal(undefined);
      const webm = Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.alloc(4000, 1)]);
      expect(await failureOf(facts({ extension: 'webm', mediaType: 'video', contentType: 'video/webm' }, webm))).to.equal(undefined);
    });

    it('should reject a body shorter than Content-Length as retryable', async () => {
      const f = facts({ byteSize: 1000, declaredSize: 2048 });
      let error: unknown;
      await verifier.verify(f).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(IntegrityError).with.property('failure', 'SIZE_MISMATCH');
      expect((error as IntegrityError).retryable).to.equal(true);
    });

    it('should skip the size comparison when verifySize is false', async () => {
      expect(await failureOf(facts({ byteSize: 2048, declaredSize: 9999, verifySize: false }))).to.equal(undefined);
    });

    it('should apply the size floors: 0 B, < 43 B, image < 100 B, video < 1 KiB', async () => {
      expect(await failureOf(facts({ byteSize: 0, declaredSize: 0 }))).to.equal('EMPTY');
      expect(await failureOf(facts({ byteSize: 42, declaredSize: 42 }))).to.equal('TOO_SMALL');
      expect(await failureOf(facts({ byteSize: 99, declaredSize: 99 }))).to.equal('TOO_SMALL');
      expect(await failureOf(facts({ byteSize: 100, declaredSize: 100 }))).to.equal(undefined);
      const mp4 = mp4Bytes(1023);
      expect(await failureOf(facts({ extension: 'mp4', mediaType: 'video', contentType: 'video/mp4' }, mp4))).to.equal('TOO_SMALL');
    });

    it('should reject a known placeholder image by hash', async () => {
      const pixel = Buffer.from(PIXEL_GIFS_BASE64[0], 'base64');
      expect(pixel.length).to.equal(43);
      expect(await failureOf(facts({ extension: 'gif', mediaType: 'gif', contentType: 'image/gif' }, pixel))).to.equal('PLACEHOLDER');
    });

    it('should use a configured placeholder list', async () => {
      const body = jpegBytes(4096, 99);
      const custom = new DefaultVerifier(resolveDownloaderConfig({ outputDir: '/tmp/x', placeholderSha256: [sha256(body)] }));
      let error: unknown;
      await custom.verify(facts({}, body)).catch((e: unknown) => (error = e));
      expect(error).to.have.property('failure', 'PLACEHOLDER');
    });

    it('should reject bytes whose magic disagrees with the extension', async () => {
      expect(await failureOf(facts({}, pngBytes(2048)))).to.equal('MAGIC_MISMATCH');
      expect(await failureOf(facts({}, Buffer.from('<html><body>removed</body></html>'.padEnd(500, ' '))))).to.equal('MAGIC_MISMATCH');
    });

    it('should compare expectedChecksum case-insensitively and retry a mismatch only after a spliced resume', async () => {
      const body = jpegBytes(2048);
      expect(await failureOf(facts({ expectedChecksum: sha256(body).toUpperCase() }, body))).to.equal(undefined);
      let fresh: IntegrityError | undefined;
      await verifier.verify(facts({ expectedChecksum: '0'.repeat(64) }, body)).catch((e: IntegrityError) => (fresh = e));
      expect(fresh?.failure).to.equal('CHECKSUM_MISMATCH');
      expect(fresh?.retryable).to.equal(false);
      let spliced: IntegrityError | undefined;
      await verifier.verify(facts({ expectedChecksum: '0'.repeat(64), resumed: true }, body)).catch((e: IntegrityError) => (spliced = e));
      expect(spliced?.retryable).to.equal(true);
    });
  });
});

describe('detectFormat', () => {
  it('should recognise each supported container from its first bytes', () => {
    expect(detectFormat(jpegBytes(16))).to.equal('jpeg');
    expect(detectFormat(pngBytes(16))).to.equal('png');
    expect(detectFormat(gifBytes(16))).to.equal('gif');
    expect(detectFormat(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).to.equal('webp');
    expect(detectFormat(mp4Bytes(16))).to.equal('mp4');
    expect(detectFormat(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0]))).to.equal('webm');
    expect(detectFormat(Buffer.from('<!DOCTYPE html>'))).to.equal(undefined);
  });
});

import { expect } from 'chai';
import { resolveDownloaderConfig } from '../../src/config/downloader-config.js';
import { IntegrityError, type IntegrityFailure } from '../../src/errors/integrity-error.js';
import { PIXEL_GIFS_BASE64 } from '../../src/verify/known-placeholders.js';
import { detectFormat } from '../../src/verify/media-formats.js';
import { StructureProbe } from '../../src/verify/structure-probe.js';
import type { ContentFacts } from '../../src/verify/verification-facts.js';
import { DefaultVerifier } from '../../src/verify/verifier.js';
import { gifBytes, jpegBytes, mp4Bytes, pngBytes, sha256, webpBytes } from '../support/fixtures.js';
import { matroska, OGG_EOS, oggOpus, oggPage } from '../support/media-samples.js';

const verifier = new DefaultVerifier(resolveDownloaderConfig({ outputDir: '/tmp/unused' }));

/** Facts of a good 2 KiB JPEG, read as the downloader reads a body; tests change one thing at a time. */
function facts(overrides: Partial<ContentFacts> = {}, body = jpegBytes(2048)): ContentFacts {
  const probe = new StructureProbe();
  probe.update(body);
  const detectedFormat = detectFormat(probe.head);
  return {
    url: 'https://x.test/a.jpg',
    mediaType: 'image',
    contentType: 'image/jpeg',
    declaredSize: body.length,
    verifyContentType: true,
    extension: 'jpg',
    byteSize: body.length,
    sha256: sha256(body),
    head: probe.head,
    detectedFormat,
    completeness: probe.verdict(detectedFormat),
    previousTruncatedSha256: undefined,
    expectedChecksum: undefined,
    verifySize: true,
    resumed: false,
    ...overrides,
  };
}

async function failureOf(f: ContentFacts): Promise<IntegrityFailure | undefined> {
  try {
    await verifier.verify(f);
    return undefined;
  } catch (error) {
    expect(error).to.be.instanceOf(IntegrityError);
    return (error as IntegrityError).failure;
  }
}

describe(DefaultVerifier.name, () => {
  describe('.checkHead', () => {
    const head = (text: string | Buffer): Buffer => (typeof text === 'string' ? Buffer.from(text.padEnd(64, ' ')) : text);
    const headFacts = (body: Buffer, contentType?: string) => ({ url: 'https://x.test/a.jpg', mediaType: 'image' as const, contentType, head: body.subarray(0, 64) });

    it('should refuse a page as soon as its first bytes arrive, whatever its Content-Type says', () => {
      for (const type of ['text/html', 'application/octet-stream', 'image/jpeg', undefined]) {
        expect(() => verifier.checkHead(headFacts(head('<!DOCTYPE html><html><body>login'), type)), String(type))
          .to.throw(IntegrityError)
          .with.property('failure', 'HTML_INSTEAD_OF_MEDIA');
      }
      expect(() => verifier.checkHead(headFacts(head('\ufeff  <svg xmlns="http://www.w3.org/2000/svg">')))).to.throw(IntegrityError);
      expect(() => verifier.checkHead(headFacts(head('{"errors":[{"code":404}]}'))))
        .to.throw(IntegrityError)
        .with.property('failure', 'MAGIC_MISMATCH');
    });

    it('should let real media through under any Content-Type, text/html included', () => {
      expect(() => verifier.checkHead(headFacts(pngBytes(100), 'text/html'))).to.not.throw();
      expect(() => verifier.checkHead(headFacts(webpBytes(100), 'image/jpeg'))).to.not.throw();
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
      expect(await failureOf(facts({ extension: 'webm', mediaType: 'video', contentType: 'video/webm' }, matroska('webm')))).to.equal(undefined);
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

    it('should keep real media whatever the URL extension or the Content-Type says', async () => {
      expect(await failureOf(facts({ contentType: 'image/jpeg' }, pngBytes(2048)))).to.equal(undefined);
      expect(await failureOf(facts({ contentType: 'application/octet-stream' }, webpBytes(2048)))).to.equal(undefined);
      expect(await failureOf(facts({ contentType: 'image/jpeg' }, mp4Bytes(4096)))).to.equal(undefined);
    });

    it('should refuse HTML, SVG, JSON and text whatever the headers say', async () => {
      const page = Buffer.from('<html><body>removed</body></html>'.padEnd(500, ' '));
      expect(await failureOf(facts({ contentType: 'application/octet-stream' }, page))).to.equal('HTML_INSTEAD_OF_MEDIA');
      expect(await failureOf(facts({ contentType: 'image/svg+xml' }, Buffer.from('<svg><script>x</script></svg>'.padEnd(500, ' '))))).to.equal('HTML_INSTEAD_OF_MEDIA');
      expect(await failureOf(facts({ contentType: 'image/jpeg' }, Buffer.from('{"error":"gone"}'.padEnd(500, ' '))))).to.equal('MAGIC_MISMATCH');
      expect(await failureOf(facts({ contentType: 'image/jpeg' }, Buffer.from('Access denied. '.repeat(40))))).to.equal('MAGIC_MISMATCH');
    });

    it('should keep an unknown binary only on a Content-Type of the requested family, flagged unverified', async () => {
      const unknown = Buffer.concat([Buffer.from([0, 1, 2, 3, 0xfe, 0xfd]), Buffer.alloc(2000, 0x9c)]);
      expect(await verifier.verify(facts({ contentType: 'image/x-icon' }, unknown))).to.deep.equal({ warnings: ['format-unverified'] });
      expect(await failureOf(facts({ contentType: 'application/octet-stream' }, unknown))).to.equal('CONTENT_TYPE_MISMATCH');
      expect(await failureOf(facts({ contentType: 'video/mp4' }, unknown))).to.equal('CONTENT_TYPE_MISMATCH');
    });

    it('should retry a cut body without Content-Length once, then keep the same cut bytes with a warning', async () => {
      const cut = jpegBytes(4096).subarray(0, 3000);
      const first = facts({ declaredSize: undefined }, cut);
      let error: IntegrityError | undefined;
      await verifier.verify(first).catch((e: IntegrityError) => (error = e));
      expect(error).to.include({ failure: 'TRUNCATED', retryable: true });
      expect(await verifier.verify({ ...first, previousTruncatedSha256: first.sha256 })).to.deep.equal({ warnings: ['truncated-at-origin'] });
      // As long as the server promised: the origin's own damage, kept at once.
      expect(await verifier.verify(facts({}, cut))).to.deep.equal({ warnings: ['truncated-at-origin'] });
    });

    it('should note a name whose extension is not the bytes format, whoever chose it', async () => {
      expect(await verifier.verify(facts({}, pngBytes(2048)))).to.deep.equal({ warnings: ['extension-mismatch'] });
      expect(await verifier.verify(facts({ extension: 'jpeg' }))).to.deep.equal({ warnings: [] });
      expect(await verifier.verify(facts({ extension: 'html' }))).to.deep.equal({ warnings: ['extension-mismatch'] });
      expect(await verifier.verify(facts({ extension: '' }, pngBytes(2048)))).to.deep.equal({ warnings: [] });
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
    expect(detectFormat(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0]))).to.equal('mkv');
    expect(detectFormat(Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84]), Buffer.from('webm')]))).to.equal('webm');
    expect(detectFormat(webpBytes(64))).to.equal('webp');
    expect(detectFormat(mp4Bytes(64, 1, 'avif'))).to.equal('avif');
    expect(detectFormat(mp4Bytes(64, 1, 'heic'))).to.equal('heic');
    expect(detectFormat(mp4Bytes(64, 1, 'qt  '))).to.equal('mov');
    expect(detectFormat(mp4Bytes(64, 1, 'M4A '))).to.equal('m4a');
    expect(detectFormat(Buffer.from('RIFF\x24\0\0\0WAVEfmt ', 'latin1'))).to.equal('wav');
    expect(detectFormat(Buffer.from([0xff, 0x0a, 0xfa, 0x7f]))).to.equal('jxl');
    expect(detectFormat(Buffer.from('II*\0\x08\0\0\0', 'latin1'))).to.equal('tiff');
    expect(detectFormat(Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1'))).to.equal('mp3');
    expect(detectFormat(Buffer.from('OggS\0\x02', 'latin1'))).to.equal('ogg');
    expect(detectFormat(Buffer.from('BMW is a car, not a bitmap'))).to.equal(undefined);
    expect(detectFormat(Buffer.from('<!DOCTYPE html>'))).to.equal(undefined);
  });
});

describe(StructureProbe.name, () => {
  const verdictOf = (body: Buffer, chunk = 1000): string => {
    const probe = new StructureProbe();
    for (let at = 0; at < body.length; at += chunk) probe.update(body.subarray(at, at + chunk));
    return probe.verdict(detectFormat(probe.head));
  };

  it('should find whole files whole, fed in any chunk size', () => {
    for (const chunk of [1, 7, 4096]) {
      expect(verdictOf(jpegBytes(5000), chunk), `jpeg/${chunk}`).to.equal('complete');
      expect(verdictOf(pngBytes(5000), chunk), `png/${chunk}`).to.equal('complete');
      expect(verdictOf(gifBytes(5000), chunk), `gif/${chunk}`).to.equal('complete');
      expect(verdictOf(webpBytes(5000), chunk), `webp/${chunk}`).to.equal('complete');
      expect(verdictOf(mp4Bytes(5000), chunk), `mp4/${chunk}`).to.equal('complete');
      expect(verdictOf(matroska('webm'), chunk), `webm/${chunk}`).to.equal('complete');
      expect(verdictOf(matroska('matroska'), chunk), `mkv/${chunk}`).to.equal('complete');
      expect(verdictOf(oggOpus(), chunk), `ogg/${chunk}`).to.equal('complete');
    }
    const webm = matroska('webm');
    expect(verdictOf(webm, webm.length)).to.equal('complete');
  });

  it('should find cut files cut', () => {
    for (const body of [jpegBytes(5000), pngBytes(5000), gifBytes(5000), webpBytes(5000), mp4Bytes(5000), matroska('webm'), matroska('matroska'), oggOpus()]) {
      expect(verdictOf(body.subarray(0, 3000)), detectFormat(body)).to.equal('truncated');
    }
  });

  describe('Matroska and WebM', () => {
    it('should tell the format from the DocType', () => {
      expect(detectFormat(matroska('webm').subarray(0, 64))).to.equal('webm');
      expect(detectFormat(matroska('matroska').subarray(0, 64))).to.equal('mkv');
    });

    it('should find a file cut at any byte before its Segment ends cut, in the headers too', () => {
      for (const body of [matroska('webm', 500), matroska('matroska', 500)]) {
        // From 4 bytes on, the EBML ID is there to recognise the format.
        for (let cut = 4; cut < body.length; cut++) expect(verdictOf(body.subarray(0, cut), 61), `${detectFormat(body)} cut at ${cut}`).to.equal('truncated');
        // Where the element headers are, split across chunks at every byte.
        for (let cut = 4; cut < 80; cut++) {
          for (const chunk of [1, 7]) expect(verdictOf(body.subarray(0, cut), chunk), `${detectFormat(body)} cut at ${cut}/${chunk}`).to.equal('truncated');
        }
      }
    });

    it('should pass data after the Segment: padding, a second segment', () => {
      const webm = matroska('webm');
      expect(verdictOf(Buffer.concat([webm, Buffer.alloc(500)]))).to.equal('complete');
      const secondSegment = webm.subarray(webm.indexOf(Buffer.from([0x18, 0x53, 0x80, 0x67])));
      expect(verdictOf(Buffer.concat([webm, secondSegment]), 7)).to.equal('complete');
    });

    it('should read a Segment size of any VINT length, and step over a Void before the Segment', () => {
      const webm = matroska('webm');
      const segmentAt = webm.indexOf(Buffer.from([0x18, 0x53, 0x80, 0x67]));
      const header = webm.subarray(0, segmentAt);
      const content = webm.subarray(segmentAt + 12);
      const size = Buffer.alloc(4);
      size.writeUInt32BE(0x10000000 | content.length); // a 4-byte VINT
      const shortSize = Buffer.concat([header, webm.subarray(segmentAt, segmentAt + 4), size, content]);
      const voidElement = Buffer.concat([Buffer.from([0xec, 0x83]), Buffer.alloc(3)]);
      for (const chunk of [1, 7, 4096]) {
        expect(verdictOf(shortSize, chunk), `4-byte size/${chunk}`).to.equal('complete');
        expect(verdictOf(shortSize.subarray(0, shortSize.length - 1), chunk)).to.equal('truncated');
        expect(verdictOf(Buffer.concat([header, voidElement, webm.subarray(segmentAt)]), chunk), `void/${chunk}`).to.equal('complete');
      }
    });

    it('should not judge a live stream, whose Segment has the unknown size', () => {
      for (const chunk of [1, 7, 4096]) {
        expect(verdictOf(matroska('webm', 3_000, true), chunk)).to.equal('unknown');
        expect(verdictOf(matroska('matroska', 3_000, true).subarray(0, 5000), chunk)).to.equal('unknown');
      }
    });

    it('should not judge malformed headers, and never throw on them', () => {
      const webm = matroska('webm');
      const segmentAt = webm.indexOf(Buffer.from([0x18, 0x53, 0x80, 0x67]));
      const cases = {
        'an EBML header of absurd size': Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.alloc(4000, 1)]),
        'a size VINT longer than 8 bytes': Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x00]), Buffer.alloc(4000, 0)]),
        'an unknown-size EBML header': Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0xff]), webm.subarray(5)]),
        'another element where the Segment belongs': Buffer.concat([webm.subarray(0, segmentAt), Buffer.from([0x1f, 0x43, 0xb6, 0x75]), webm.subarray(segmentAt + 4)]),
        'an ID longer than 4 bytes': Buffer.concat([webm.subarray(0, segmentAt), Buffer.from([0x08, 0, 0, 0, 0, 0x81, 0]), webm.subarray(segmentAt)]),
      };
      for (const [name, body] of Object.entries(cases)) {
        for (const chunk of [1, 1000]) expect(verdictOf(body, chunk), name).to.equal('unknown');
      }
      const probe = new StructureProbe();
      probe.update(jpegBytes(3000));
      expect(probe.verdict('webm'), 'not EBML at all').to.equal('unknown');
    });
  });

  describe('Ogg', () => {
    it('should find a stream cut at any byte cut, between pages too', () => {
      const ogg = oggOpus({ packetSize: 300 });
      // From 4 bytes on, the capture pattern is there to recognise the format.
      for (let cut = 4; cut < ogg.length; cut++) expect(verdictOf(ogg.subarray(0, cut), 61), `cut at ${cut}`).to.equal('truncated');
    });

    it('should find a stream whose last page has no end-of-stream flag cut', () => {
      for (const chunk of [1, 7, 4096]) expect(verdictOf(oggOpus({ endOfStream: false }), chunk)).to.equal('truncated');
    });

    it('should judge the last page of a file larger than the kept tail', () => {
      const ogg = oggOpus({ audioPages: 40 });
      expect(ogg.length).to.be.above(100_000);
      for (const chunk of [4096, 65_536, ogg.length]) {
        expect(verdictOf(ogg, chunk), `whole/${chunk}`).to.equal('complete');
        expect(verdictOf(ogg.subarray(0, 90_000), chunk), `cut/${chunk}`).to.equal('truncated');
      }
    });

    it('should pass a chained file whose last stream ends, and find one whose last stream is cut cut', () => {
      const first = oggOpus({ serial: 1 });
      const second = oggOpus({ serial: 2 });
      expect(verdictOf(Buffer.concat([first, second]), 7)).to.equal('complete');
      expect(verdictOf(Buffer.concat([first, second.subarray(0, 2000)]), 7)).to.equal('truncated');
    });

    it('should find the last page when its packet holds the bytes of a capture pattern', () => {
      const packet = Buffer.concat([Buffer.from('xxOggS\0\x04', 'latin1'), Buffer.alloc(40, 0x20)]);
      const body = Buffer.concat([oggOpus({ endOfStream: false, serial: 5 }), oggPage(OGG_EOS, 3 * 4 * 960, 5, 4, [packet])]);
      for (const chunk of [1, 7, 4096]) expect(verdictOf(body, chunk)).to.equal('complete');
    });

    it('should not judge a body with no Ogg page in its tail', () => {
      const body = Buffer.concat([oggOpus().subarray(0, 47), Buffer.alloc(70_000, 1)]);
      expect(verdictOf(body, 4096)).to.equal('unknown');
    });
  });

  it('should pass what real encoders write: data after the JPEG EOI, moov after mdat, a 64-bit box size, a size-0 last box', () => {
    expect(verdictOf(Buffer.concat([jpegBytes(3000), Buffer.from('vendor trailer, no markers here')]))).to.equal('complete');
    const ftyp = mp4Bytes(32);
    const box = (type: string, size: number): Buffer => {
      const b = Buffer.alloc(size, 7);
      b.writeUInt32BE(size, 0);
      b.write(type, 4, 'latin1');
      return b;
    };
    expect(verdictOf(Buffer.concat([ftyp, box('mdat', 3000), box('moov', 500)]))).to.equal('complete');
    const large = Buffer.alloc(2016, 3);
    large.writeUInt32BE(1, 0);
    large.write('mdat', 4, 'latin1');
    large.writeBigUInt64BE(2016n, 8);
    expect(verdictOf(Buffer.concat([ftyp, large]), 5)).to.equal('complete');
    const toEnd = box('mdat', 900);
    toEnd.writeUInt32BE(0, 0);
    expect(verdictOf(Buffer.concat([ftyp, toEnd]))).to.equal('complete');
    expect(verdictOf(Buffer.concat([ftyp, box('mdat', 3000), box('moov', 500)]).subarray(0, 3400))).to.equal('truncated');
  });
});

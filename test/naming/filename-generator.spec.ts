import { expect } from 'chai';
import * as path from 'node:path';
import { DownloadError } from '../../src/errors/download-error.js';
import { DefaultFilenameGenerator, extensionFromUrl } from '../../src/naming/filename-generator.js';
import { resolveInside } from '../../src/naming/safe-path.js';
import type { DetectedFormat, MediaType } from '../../src/model/media-type.js';
import { sanitizeSegment } from '../../src/naming/sanitize.js';

describe(DefaultFilenameGenerator.name, () => {
  const generator = new DefaultFilenameGenerator();
  /** The generator asked as the downloader asks it: one context object. */
  const generate = (url: string, postId: string, mediaType: MediaType, index = 0, contentType?: string, detectedFormat?: DetectedFormat): string =>
    generator.generateFilename({
      url,
      postId,
      mediaType,
      index,
      ...(contentType === undefined ? {} : { contentType }),
      ...(detectedFormat === undefined ? {} : { detectedFormat }),
    });
  const url = 'https://64.media.tumblr.com/abc/tumblr_xyz_1280.jpg';

  describe('.generateFilename', () => {
    it('should follow {postId}_{index}_{md5(url)[0:8]}.{ext} when given a plain post', () => {
      // md5('https://64.media.tumblr.com/abc/tumblr_xyz_1280.jpg') starts with these 8 hex digits.
      const name = generate(url, '12345', 'image', 2);
      expect(name).to.match(/^12345_2_[0-9a-f]{8}\.jpg$/);
      expect(name).to.equal(generate(url, '12345', 'image', 2));
    });

    it('should give different names when URLs differ within one post', () => {
      expect(generate(url, '1', 'image')).to.not.equal(generate(`${url}?v=2`, '1', 'image'));
    });

    it('should take the extension from the URL path, ignoring the query', () => {
      expect(generate('https://x.test/a/b.PNG?size=1280#f', '1', 'image')).to.match(/\.png$/);
    });

    it('should fall back to the Content-Type when the URL has no extension', () => {
      expect(generate('https://x.test/media/abc', '1', 'image', 0, 'image/webp; charset=x')).to.match(/\.webp$/);
    });

    it('should fall back to the media type default when nothing else tells', () => {
      expect(generate('https://x.test/v/abc', '1', 'video')).to.match(/\.mp4$/);
      expect(generate('https://x.test/g/abc', '1', 'gif')).to.match(/\.gif$/);
    });

    it('should reduce a hostile post id to safe characters when it contains path tricks', () => {
      const name = generate(url, '../../etc/passwd', 'image');
      expect(name).to.match(/^etc_passwd_0_[0-9a-f]{8}\.jpg$/);
      expect(name).to.not.include('/');
      expect(name).to.not.include('..');
    });

    it('should never produce an empty, hidden or device name when the post id is unusable', () => {
      expect(generate(url, '../..', 'image')).to.match(/^post_0_/);
      expect(generate(url, '\u0000\u202e', 'image')).to.match(/^post_0_/);
      expect(generate(url, 'CON', 'image')).to.match(/^_CON_0_/);
    });

    it('should name the extension after the detected format once the bytes are known, whatever the URL says', () => {
      expect(generate(url, '1', 'image', 0, 'image/jpeg', 'webp')).to.match(/\.webp$/);
      expect(generate('https://x.test/a.gifv', '1', 'gif', 0, undefined, 'mp4')).to.match(/\.mp4$/);
    });

    it('should give the metadata no say in the default name', () => {
      expect(generator.generateFilename({ url, postId: '9', mediaType: 'image', index: 0, metadata: { blog: '../x' } })).to.equal(generate(url, '9', 'image'));
    });

    it('should refuse a negative or fractional index', () => {
      expect(() => generate(url, '1', 'image', -1))
        .to.throw(DownloadError)
        .with.property('code', 'UNSAFE_PATH');
      expect(() => generate(url, '1', 'image', 1.5)).to.throw(DownloadError);
    });
  });
});

describe('sanitizeSegment', () => {
  it('should fold full-width look-alikes to ASCII and cut long ids', () => {
    expect(sanitizeSegment('ＡＢＣ１２３', 'x')).to.equal('ABC123');
    expect(sanitizeSegment('a'.repeat(500), 'x')).to.have.length(64);
  });
});

describe('extensionFromUrl', () => {
  it('should refuse extensions that are not short alphanumerics', () => {
    expect(extensionFromUrl('https://x.test/a.verylongext')).to.equal(undefined);
    expect(extensionFromUrl('https://x.test/a')).to.equal(undefined);
    expect(extensionFromUrl('not a url')).to.equal(undefined);
  });
});

describe('resolveInside', () => {
  const root = path.resolve('/tmp/out');

  it('should resolve relative names, sub-directories included, under the output dir', () => {
    expect(resolveInside(root, 'a/b.jpg')).to.equal(path.join(root, 'a', 'b.jpg'));
    // Only the state folder itself is reserved, not names that resemble it.
    expect(resolveInside(root, 'blog/.tumblr-dl/x.jpg')).to.equal(path.join(root, 'blog', '.tumblr-dl', 'x.jpg'));
    expect(resolveInside(root, 'tumblr-dl/x.jpg')).to.equal(path.join(root, 'tumblr-dl', 'x.jpg'));
  });

  for (const hostile of ['../x.jpg', 'a/../../x.jpg', '/etc/passwd', '.', 'a\u0000b.jpg', '', '.tumblr-dl/ledger.sqlite', '.tumblr-dl', 'a/../.TUMBLR-DL/lock']) {
    it(`should refuse ${JSON.stringify(hostile)} because it leaves the output dir, enters its state folder or names nothing`, () => {
      expect(() => resolveInside(root, hostile))
        .to.throw(DownloadError)
        .with.property('code', 'UNSAFE_PATH');
    });
  }

  it('should refuse names too long for common file systems', () => {
    expect(() => resolveInside(root, `${'x'.repeat(250)}.jpg`)).to.throw(DownloadError);
  });
});

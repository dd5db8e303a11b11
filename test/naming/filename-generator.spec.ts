import { expect } from 'chai';
import * as path from 'node:path';
import { DownloadError } from '../../src/errors/download-error.js';
import { DefaultFilenameGenerator, extensionFromUrl } from '../../src/naming/filename-generator.js';
import { resolveInside } from '../../src/naming/safe-path.js';
import { sanitizeSegment } from '../../src/naming/sanitize.js';

describe(DefaultFilenameGenerator.name, () => {
  const generator = new DefaultFilenameGenerator();
  const url = 'https://64.media.tumblr.com/abc/tumblr_xyz_1280.jpg';

  describe('.generateFilename', () => {
    it('should follow {postId}_{index}_{md5(url)[0:8]}.{ext} when given a plain post', () => {
      // md5('https://64.media.tumblr.com/abc/tumblr_xyz_1280.jpg') starts with these 8 hex digits.
      const name = generator.generateFilename(url, '12345', 'image', 2);
      expect(name).to.match(/^12345_2_[0-9a-f]{8}\.jpg$/);
      expect(name).to.equal(generator.generateFilename(url, '12345', 'image', 2));
    });

    it('should give different names when URLs differ within one post', () => {
      expect(generator.generateFilename(url, '1', 'image')).to.not.equal(generator.generateFilename(`${url}?v=2`, '1', 'image'));
    });

    it('should take the extension from the URL path, ignoring the query', () => {
      expect(generator.generateFilename('https://x.test/a/b.PNG?size=1280#f', '1', 'image')).to.match(/\.png$/);
    });

    it('should fall back to the Content-Type when the URL has no extension', () => {
      expect(generator.generateFilename('https://x.test/media/abc', '1', 'image', 0, 'image/webp; charset=x')).to.match(/\.webp$/);
    });

    it('should fall back to the media type default when nothing else tells', () => {
      expect(generator.generateFilename('https://x.test/v/abc', '1', 'video')).to.match(/\.mp4$/);
      expect(generator.generateFilename('https://x.test/g/abc', '1', 'gif')).to.match(/\.gif$/);
    });

    it('should reduce a hostile post id to safe characters when it contains path tricks', () => {
      const name = generator.generateFilename(url, '../../etc/passwd', 'image');
      expect(name).to.match(/^etc_passwd_0_[0-9a-f]{8}\.jpg$/);
      expect(name).to.not.include('/');
      expect(name).to.not.include('..');
    });

    it('should never produce an empty, hidden or device name when the post id is unusable', () => {
      expect(generator.generateFilename(url, '../..', 'image')).to.match(/^post_0_/);
      expect(generator.generateFilename(url, '\u0000\u202e', 'image')).to.match(/^post_0_/);
      expect(generator.generateFilename(url, 'CON', 'image')).to.match(/^_CON_0_/);
    });

    it('should refuse a negative or fractional index', () => {
      expect(() => generator.generateFilename(url, '1', 'image', -1)).to.throw(DownloadError).with.property('code', 'UNSAFE_PATH');
      expect(() => generator.generateFilename(url, '1', 'image', 1.5)).to.throw(DownloadError);
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
  });

  for (const hostile of ['../x.jpg', 'a/../../x.jpg', '/etc/passwd', '.', 'a\u0000b.jpg', '']) {
    it(`should refuse ${JSON.stringify(hostile)} because it leaves or misnames the output dir`, () => {
      expect(() => resolveInside(root, hostile)).to.throw(DownloadError).with.property('code', 'UNSAFE_PATH');
    });
  }

  it('should refuse names too long for common file systems', () => {
    expect(() => resolveInside(root, `${'x'.repeat(250)}.jpg`)).to.throw(DownloadError);
  });
});

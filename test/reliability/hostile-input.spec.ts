import { expect } from 'chai';
import * as path from 'node:path';
import nock from 'nock';
import { jpegBytes, listOutput } from '../support/fixtures.js';
import { assertNockDoneAndClean, mediaHeaders } from '../support/nock-helpers.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

const HOSTILE_POST_IDS = [
  '../../etc/passwd',
  '/etc/passwd',
  'C:\\Windows\\system32',
  '..\\..\\boot.ini',
  'a\u0000b',
  'x'.repeat(5000),
  'CON',
  'lpt1',
  'nul',
  '.hidden',
  '\u202egnp.exe',
  '\uff0e\uff0e\uff0fetc', // full-width "../etc"
  'e\u0301\u200b\u200d',
  '',
  '   ',
  '%2e%2e%2f',
];

/** What a generated name must look like, whatever the input. */
const SAFE_NAME = /^[A-Za-z0-9_-]{1,80}_\d+_[0-9a-f]{8}(_\d+)?\.[a-z0-9]{1,5}$/;

describe('Reliability: hostile input never escapes outputDir', () => {
  let rig: TestRig;

  beforeEach(() => {
    rig = createTestRig();
  });

  afterEach(async () => {
    await rig.cleanup();
    assertNockDoneAndClean();
  });

  it('should keep every hostile post id to one safe file name directly inside outputDir', async () => {
    const body = jpegBytes(2000);
    // One URL per post: the same URL twice would be fetched once and both results would name one file.
    HOSTILE_POST_IDS.forEach((_, i) => nock('https://64.media.tumblr.com').get(`/a/b${i}.jpg`).reply(200, body, mediaHeaders(body)));
    const results = await Promise.all(HOSTILE_POST_IDS.map((id, i) => rig.downloader.downloadImage(`https://64.media.tumblr.com/a/b${i}.jpg`, id)));
    for (const [i, result] of results.entries()) {
      expect(result.status, JSON.stringify(HOSTILE_POST_IDS[i])).to.equal('success');
      expect(path.dirname(result.filename)).to.equal(rig.dir);
      expect(path.basename(result.filename)).to.match(SAFE_NAME);
      expect(path.basename(result.filename)).to.not.match(/^(con|prn|aux|nul|com\d|lpt\d)[._]/i);
    }
    expect(listOutput(rig.dir)).to.have.length(HOSTILE_POST_IDS.length);
  });

  it('should sanitize hostile extensions and encoded separators in the URL path', async () => {
    const body = jpegBytes(2000);
    const paths = ['/x/a.jpg%2F..%2F..%2Fevil', '/x/a.%E0%A4%A', '/x/a.jp%00g', '/x/..%2f..%2fb.png'];
    for (const p of paths) nock('https://64.media.tumblr.com').get(p).reply(200, body, mediaHeaders(body));
    for (const p of paths) {
      const result = await rig.downloader.downloadImage(`https://64.media.tumblr.com${p}`, '1', { index: 0 });
      expect(path.dirname(result.filename), p).to.equal(rig.dir);
      expect(path.basename(result.filename), p).to.match(SAFE_NAME);
    }
  });

  for (const url of ['file:///etc/passwd', 'data:image/jpeg;base64,/9j/', 'ftp://example.org/a.jpg', 'javascript:alert(1)', '//no-scheme/a.jpg', 'http://']) {
    it(`should refuse ${url} with INVALID_URL before any request`, async () => {
      const result = await rig.downloader.downloadImage(url, '1');
      expect(result).to.include({ status: 'error', errorCode: 'INVALID_URL', attempts: 0 });
    });
  }

  for (const filename of ['../x.jpg', '/abs/x.jpg', 'a/../../x.jpg', 'a\u0000.jpg', `${'n'.repeat(300)}.jpg`]) {
    it(`should refuse the explicit file name ${JSON.stringify(filename.slice(0, 40))} with UNSAFE_PATH`, async () => {
      const result = await rig.downloader.downloadFile('https://64.media.tumblr.com/a/b.jpg', filename);
      expect(result).to.include({ status: 'error', errorCode: 'UNSAFE_PATH', attempts: 0 });
      expect(listOutput(rig.dir)).to.deep.equal([]);
    });
  }
});

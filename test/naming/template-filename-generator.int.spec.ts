import { expect } from 'chai';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import nock from 'nock';
import { DownloadError } from '../../src/errors/download-error.js';
import { downloaderModule } from '../../src/module.js';
import { FilenameGenerator } from '../../src/naming/filename-generator.js';
import { DEFAULT_FILENAME_TEMPLATE } from '../../src/naming/filename-template.js';
import { TemplateFilenameGenerator } from '../../src/naming/template-filename-generator.js';
import { jpegBytes } from '../support/fixtures.js';
import { assertNockDoneAndClean, mediaHeaders, TUMBLR } from '../support/nock-helpers.js';
import { createTestRig, type TestRig } from '../support/test-container.js';

describe('downloaderModule (filenameTemplate)', () => {
  let rig: TestRig | undefined;

  afterEach(async () => {
    await rig?.cleanup();
    rig = undefined;
    assertNockDoneAndClean();
  });

  /** Serve one JPEG at `urlPath` on the Tumblr media host. */
  const serveJpeg = (urlPath: string, seed = 1): void => {
    const body = jpegBytes(2000, seed);
    nock(TUMBLR).get(urlPath).reply(200, body, mediaHeaders(body));
  };

  it('should name files after config.filenameTemplate', async () => {
    rig = createTestRig({ filenameTemplate: '{blog}/{postId}_{index}.{ext}' });
    serveJpeg('/abc/tumblr_photo_1280');
    const result = await rig.downloader.downloadImage(`${TUMBLR}/abc/tumblr_photo_1280`, '7431599279', { metadata: { blog: 'staff' } });
    expect(result.status, result.errorMessage).to.equal('success');
    expect(path.relative(rig.dir, result.filename)).to.equal(path.join('staff', '7431599279_0.jpg'));
    expect(existsSync(result.filename)).to.equal(true);
    expect(rig.container.get(FilenameGenerator)).to.be.instanceOf(TemplateFilenameGenerator);
  });

  it("should keep today's names without a template in the config", async () => {
    rig = createTestRig();
    expect((rig.container.get(FilenameGenerator) as TemplateFilenameGenerator).template.source).to.equal(DEFAULT_FILENAME_TEMPLATE);
    serveJpeg('/abc/tumblr_photo_1280.jpg');
    const result = await rig.downloader.downloadImage(`${TUMBLR}/abc/tumblr_photo_1280.jpg`, '42', { metadata: { blog: 'staff' } });
    expect(path.relative(rig.dir, result.filename)).to.match(/^42_0_[0-9a-f]{8}\.jpg$/);
  });

  it('should save a second media of the same name as name_1.ext, as the collision warning says', async () => {
    rig = createTestRig({ filenameTemplate: '{blog}/{postId}.{ext}' });
    serveJpeg('/abc/one.jpg', 1);
    serveJpeg('/abc/two.jpg', 2);
    const first = await rig.downloader.downloadImage(`${TUMBLR}/abc/one.jpg`, '7', { metadata: { blog: 'art' }, index: 0 });
    const second = await rig.downloader.downloadImage(`${TUMBLR}/abc/two.jpg`, '7', { metadata: { blog: 'art' }, index: 1 });
    expect([first, second].map((r) => path.relative(rig!.dir, r.filename))).to.deep.equal([path.join('art', '7.jpg'), path.join('art', '7_1.jpg')]);
    expect(first.checksum).not.to.equal(second.checksum);
  });

  it('should let a rebound FilenameGenerator win over config.filenameTemplate', async () => {
    rig = createTestRig({ filenameTemplate: '{blog}/{postId}_{index}.{ext}' }, (c) =>
      c.rebind(FilenameGenerator).toConstantValue({ generateFilename: ({ postId, index }) => `host-${postId}-${index}.jpg` }),
    );
    serveJpeg('/abc/tumblr_photo_1280.jpg');
    const result = await rig.downloader.downloadImage(`${TUMBLR}/abc/tumblr_photo_1280.jpg`, '42', { metadata: { blog: 'staff' } });
    expect(path.relative(rig.dir, result.filename)).to.equal('host-42-0.jpg');
  });

  it('should refuse a bad template when the module is made, by its key', () => {
    expect(() => downloaderModule({ outputDir: '/tmp/x', filenameTemplate: '{blog}/{postID}.{ext}' }))
      .to.throw(DownloadError, 'Invalid downloader config: filenameTemplate "{blog}/{postID}.{ext}" has an unknown field {postID} (did you mean {postId}?)')
      .with.property('code', 'INVALID_CONFIG');
  });
});

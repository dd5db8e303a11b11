import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Container, injectable, injectFromBase } from 'inversify';
import { DownloadError } from '../../src/errors/download-error.js';
import type { DetectedFormat, MediaType } from '../../src/model/media-type.js';
import { DefaultFilenameGenerator, extensionFor, type FilenameContext } from '../../src/naming/filename-generator.js';
import { DEFAULT_FILENAME_TEMPLATE, FilenameTemplate, parseFilenameTemplate } from '../../src/naming/filename-template.js';
import { sanitizeSegment } from '../../src/naming/sanitize.js';
import { TemplateFilenameGenerator } from '../../src/naming/template-filename-generator.js';
import { FORMAT_INFO } from '../../src/verify/media-formats.js';

/** The names of the release before templates, written out: `{postId}_{index}_{md5(url)[0:8]}.{ext}`. */
const todaysName = (context: FilenameContext): string =>
  `${sanitizeSegment(String(context.postId), 'post')}_${context.index}_${createHash('md5').update(context.url).digest('hex').slice(0, 8)}.${extensionFor(context)}`;

/** Many contexts: every media type and format, odd URLs, hostile post ids, large indexes. */
function* manyContexts(): Iterable<FilenameContext> {
  const urls = [
    'https://64.media.tumblr.com/abc/tumblr_xyz_1280.jpg',
    'https://x.test/a/b.PNG?size=1280#f',
    'https://x.test/media/abc',
    'https://x.test/a.gifv',
    'https://x.test/page.html',
    'https://***:***@x.test/private.webm',
    'https://x.test/%E0%A4%A.mp4',
  ];
  const postIds = ['12345', '7431599279', '', '../../etc/passwd', 'CON', '\u0000\u202e', 'ＡＢＣ１２３', 'a'.repeat(300), 'blog.tumblr.com/post/1'];
  const mediaTypes: MediaType[] = ['image', 'video', 'gif', 'audio', 'file'];
  const formats: Array<DetectedFormat | undefined> = [undefined, ...(Object.keys(FORMAT_INFO) as DetectedFormat[])];
  const contentTypes = [undefined, 'image/webp; charset=x', 'text/html', 'application/octet-stream'];
  let n = 0;
  for (const url of urls) {
    for (const postId of postIds) {
      for (const mediaType of mediaTypes) {
        for (const detectedFormat of formats) {
          const contentType = contentTypes[n % contentTypes.length];
          const index = [0, 1, 17, Number.MAX_SAFE_INTEGER][n % 4]!;
          n++;
          yield {
            url,
            postId,
            mediaType,
            index,
            ...(contentType === undefined ? {} : { contentType }),
            ...(detectedFormat === undefined ? {} : { detectedFormat }),
            ...(n % 3 === 0 ? { metadata: { blog: '../x', timestamp: 1 } } : {}),
          };
        }
      }
    }
  }
}

describe(TemplateFilenameGenerator.name, () => {
  describe('.generateFilename', () => {
    it('should name staff/7431599279_0.jpg for {blog}/{postId}_{index}.{ext} once the bytes are a JPEG', () => {
      const generator = new TemplateFilenameGenerator('{blog}/{postId}_{index}.{ext}');
      const context: FilenameContext = { url: 'https://64.media.tumblr.com/abc/tumblr_xyz_1280', postId: '7431599279', mediaType: 'image', index: 0, metadata: { blog: 'staff' } };
      expect(generator.generateFilename({ ...context, detectedFormat: 'jpeg' })).to.equal('staff/7431599279_0.jpg');
      // Before the bytes arrive, the URL has no extension: the media type's default; after, the bytes decide.
      expect(generator.generateFilename({ ...context, mediaType: 'video' })).to.equal('staff/7431599279_0.mp4');
      expect(generator.generateFilename({ ...context, detectedFormat: 'webp' })).to.equal('staff/7431599279_0.webp');
    });

    it("should give today's names, byte for byte, with the default template, as DefaultFilenameGenerator does", () => {
      const byDefaultTemplate = new TemplateFilenameGenerator();
      const byText = new TemplateFilenameGenerator(DEFAULT_FILENAME_TEMPLATE);
      const byDefaultClass = new DefaultFilenameGenerator();
      let count = 0;
      for (const context of manyContexts()) {
        const expected = todaysName(context);
        expect(byDefaultTemplate.generateFilename(context), JSON.stringify(context)).to.equal(expected);
        expect(byText.generateFilename(context), JSON.stringify(context)).to.equal(expected);
        expect(byDefaultClass.generateFilename(context), JSON.stringify(context)).to.equal(expected);
        count++;
      }
      expect(count).to.be.greaterThan(5000);
    });

    it('should take a parsed template as it is', () => {
      const template = parseFilenameTemplate('{mediaType}/{postId}_{index}.{ext}');
      const generator = new TemplateFilenameGenerator(template);
      expect(generator.template).to.equal(template);
      expect(generator.generateFilename({ url: 'https://x.test/a.gif', postId: '9', mediaType: 'gif', index: 2 })).to.equal('gif/9_2.gif');
    });

    it('should refuse a template that does not parse when constructed', () => {
      expect(() => new TemplateFilenameGenerator('{foo}.{ext}'))
        .to.throw(DownloadError, 'unknown field {foo}')
        .with.property('code', 'INVALID_CONFIG');
    });

    it('should refuse a negative or fractional index as the default does', () => {
      const generator = new TemplateFilenameGenerator('{blog}/{postId}.{ext}');
      for (const index of [-1, 1.5]) {
        expect(() => generator.generateFilename({ url: 'https://x.test/a.jpg', postId: '1', mediaType: 'image', index }))
          .to.throw(DownloadError)
          .with.property('code', 'UNSAFE_PATH');
      }
    });

    it("should name {ext} by a subclass's extensionFor, for the template generator and the default class alike", () => {
      @injectable()
      class JpegNames extends TemplateFilenameGenerator {
        protected override extensionFor(): string {
          return 'jpeg';
        }
      }
      @injectable()
      class JpegDefaultNames extends DefaultFilenameGenerator {
        protected override extensionFor(): string {
          return 'jpeg';
        }
      }
      const context: FilenameContext = { url: 'https://x.test/a.png', postId: '5', mediaType: 'image', index: 1, detectedFormat: 'png', metadata: { blog: 'b' } };
      expect(new JpegNames('{blog}/{postId}_{index}.{ext}').generateFilename(context)).to.equal('b/5_1.jpeg');
      expect(new JpegDefaultNames().generateFilename(context)).to.match(/^5_1_[0-9a-f]{8}\.jpeg$/);
    });
  });

  describe('(in a container)', () => {
    it('should take its template from the FilenameTemplate token, subclasses too', () => {
      @injectable()
      @injectFromBase({ extendConstructorArguments: true })
      class Prefixed extends TemplateFilenameGenerator {
        override generateFilename(context: FilenameContext): string {
          return `p-${super.generateFilename(context)}`;
        }
      }
      const container = new Container();
      container.bind(FilenameTemplate).toConstantValue(parseFilenameTemplate('{blog}/{postId}.{ext}'));
      container.bind(TemplateFilenameGenerator).toSelf();
      container.bind(Prefixed).toSelf();
      const context: FilenameContext = { url: 'https://x.test/a.jpg', postId: '3', mediaType: 'image', index: 0, metadata: { blog: 'art' } };
      expect(container.get(TemplateFilenameGenerator).generateFilename(context)).to.equal('art/3.jpg');
      expect(container.get(Prefixed).generateFilename(context)).to.equal('p-art/3.jpg');
    });
  });
});

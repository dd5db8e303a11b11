import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { withSuffix } from '../../src/downloader/disk/path-reservations.js';
import { DownloadError } from '../../src/errors/download-error.js';
import { collisionWarning, DEFAULT_FILENAME_TEMPLATE, filenameTemplateProblem, parseFilenameTemplate, type FilenameTemplateItem } from '../../src/naming/filename-template.js';
import { resolveInside, STATE_FOLDER } from '../../src/naming/safe-path.js';

const URL = 'https://64.media.tumblr.com/abc/tumblr_xyz_1280.jpg';
const md5Of = (text: string): string => createHash('md5').update(text).digest('hex').slice(0, 8);
const FIELD_LIST = 'the fields are {blog}, {postId}, {index}, {mediaType}, {date}, {hash8}, {ext}';

/** An item as the downloader hands it over, with the fields a test cares about. */
const item = (overrides: Partial<FilenameTemplateItem> = {}): FilenameTemplateItem => ({ url: URL, postId: '7431599279', mediaType: 'image', index: 0, ...overrides });

describe('parseFilenameTemplate', () => {
  it('should list the fields the default template uses, and find it cannot collide', () => {
    const template = parseFilenameTemplate(DEFAULT_FILENAME_TEMPLATE);
    expect(template.source).to.equal('{postId}_{index}_{hash8}.{ext}');
    expect([...template.fields].sort()).to.deep.equal(['ext', 'hash8', 'index', 'postId']);
    expect(template.mayCollide).to.equal(false);
  });

  const collisions: Array<[string, boolean]> = [
    ['{postId}_{index}_{hash8}.{ext}', false],
    ['{blog}/{postId}_{index}.{ext}', false],
    ['{postId}/{index}.{ext}', false],
    ['{blog}/{hash8}.{ext}', false],
    ['{blog}/{postId}.{ext}', true],
    ['{blog}/{index}.{ext}', true],
    ['{date}/{mediaType}.{ext}', true],
    ['all.{ext}', true],
  ];
  for (const [text, mayCollide] of collisions) {
    it(`should find that ${text} ${mayCollide ? 'can' : 'cannot'} give two media one name`, () => {
      expect(parseFilenameTemplate(text).mayCollide).to.equal(mayCollide);
    });
  }

  it('should accept eight folder levels, literal text, repeated fields and {ext} in a folder', () => {
    expect(() => parseFilenameTemplate('a/b/c/d/e/f/g/h/{postId}.{ext}')).not.to.throw();
    expect(parseFilenameTemplate('tumblr {blog} (archive)/{ext}/{postId}-{postId}.{index}.{ext}').fields).to.have.property('size', 4);
  });

  const refusals: Array<[string, string]> = [
    ['', 'is empty'],
    ['{foo}.{ext}', 'has an unknown field {foo}'],
    ['{blgo}/{postId}.{ext}', 'has an unknown field {blgo} (did you mean {blog}?)'],
    ['{postid}_{index}.{ext}', 'has an unknown field {postid} (did you mean {postId}?)'],
    ['{}.{ext}', 'has an unknown field {}'],
    ['{postId.{ext}', 'has a { with no }'],
    ['{postId}.{ext', 'has a { with no }'],
    ['{postId}}.{ext}', 'has a } with no {'],
    ['/srv/{postId}.{ext}', 'starts with /: names are relative to the output folder'],
    ['a//{postId}.{ext}', 'has an empty folder name'],
    ['{blog}/', 'has an empty folder name'],
    ['../{postId}.{ext}', 'has a name starting with "." ("..")'],
    ['./{postId}.{ext}', 'has a name starting with "." (".")'],
    ['{blog}/../{postId}.{ext}', 'has a name starting with "." ("..")'],
    ['.tumblr-dl/{postId}.{ext}', 'has a name starting with "." (".tumblr-dl")'],
    ['{blog}/.{ext}', 'has a name starting with "." (".{ext}")'],
    ['a\\b/{postId}.{ext}', 'has a backslash: folders are separated by /'],
    ['a\u0000b/{postId}.{ext}', 'has a control character'],
    ['a\nb/{postId}.{ext}', 'has a control character'],
    ['{postId}_{index}', 'must end in .{ext}: the extension comes from the bytes'],
    ['{postId}_{ext}', 'must end in .{ext}'],
    ['{ext}/{postId}', 'must end in .{ext}'],
    ['{postId}.{ext}.jpg', 'must end in .{ext}'],
    ['{postId}/{ext}', 'must end in .{ext}'],
    ['a/b/c/d/e/f/g/h/i/{postId}.{ext}', 'has 9 folder levels; at most 8 are allowed'],
    [`${'x'.repeat(230)}{postId}.{ext}`, 'can make a name of 300 bytes'],
    ['{blog}:{postId}/a.{ext}', 'has ":", which Windows does not allow in a name'],
    ['{blog}/a<b>.{ext}', 'has "<", which Windows does not allow in a name'],
    ['{blog}/what?.{ext}', 'has "?", which Windows does not allow in a name'],
    ['{blog} /{postId}.{ext}', 'has a folder name ending in a space or "." ("{blog} ")'],
    ['{blog}./{postId}.{ext}', 'has a folder name ending in a space or "." ("{blog}.")'],
  ];
  for (const [text, problem] of refusals) {
    it(`should refuse ${JSON.stringify(text)}, naming the problem and the fields`, () => {
      expect(() => parseFilenameTemplate(text))
        .to.throw(DownloadError)
        .that.satisfies((error: DownloadError) => {
          expect(error.code).to.equal('INVALID_CONFIG');
          expect(error.message).to.include(`File name template ${JSON.stringify(text)} ${problem}`);
          expect(error.message).to.include(FIELD_LIST);
          return true;
        });
    });
  }

  it('should say what is wrong without throwing through filenameTemplateProblem, non-strings included', () => {
    expect(filenameTemplateProblem('{blog}/{postId}_{index}.{ext}')).to.equal(undefined);
    expect(filenameTemplateProblem('{foo}.{ext}')).to.match(/^"\{foo\}\.\{ext\}" has an unknown field \{foo\}/);
    expect(filenameTemplateProblem(5)).to.equal('must be a string, got 5');
  });
});

describe('FilenameTemplate', () => {
  describe('.render', () => {
    it('should put every field in its place', () => {
      const template = parseFilenameTemplate('{blog}/{date}/{mediaType}/{postId}_{index}_{hash8}.{ext}');
      const name = template.render(item({ index: 3, mediaType: 'video', metadata: { blog: 'staff', timestamp: 1_700_000_000 } }), 'mp4');
      expect(name).to.equal(`staff/2023-11-14/video/7431599279_3_${md5Of(URL)}.mp4`);
    });

    it('should name staff/7431599279_0.jpg for {blog}/{postId}_{index}.{ext}', () => {
      expect(parseFilenameTemplate('{blog}/{postId}_{index}.{ext}').render(item({ metadata: { blog: 'staff' } }), 'jpg')).to.equal('staff/7431599279_0.jpg');
    });

    it('should date by metadata.timestamp (UTC), else by a metadata.date that starts with YYYY-MM-DD, else undated', () => {
      const template = parseFilenameTemplate('{date}/{hash8}.{ext}');
      const dateOf = (metadata?: Record<string, unknown>): string => template.render(item(metadata === undefined ? {} : { metadata }), 'jpg').split('/')[0]!;
      // 23:59:59 UTC: a local-time date would be the next day east of Greenwich.
      expect(dateOf({ timestamp: 1_364_428_799 })).to.equal('2013-03-27');
      expect(dateOf({ date: '2013-03-27 19:01:53 GMT' })).to.equal('2013-03-27');
      expect(dateOf({ timestamp: 1_700_000_000, date: '2013-03-27 19:01:53 GMT' })).to.equal('2023-11-14');
      for (const timestamp of [Number.NaN, Infinity, '1700000000', 1e20, null]) {
        expect(dateOf({ timestamp, date: '2013-03-27' }), String(timestamp)).to.equal('2013-03-27');
      }
      for (const date of ['2013-02-30 00:00:00', 'March 27, 2013', '13-03-27', 20130327]) expect(dateOf({ date }), String(date)).to.equal('undated');
      expect(dateOf()).to.equal('undated');
    });

    it('should give the documented fallbacks when an item has no usable value', () => {
      const template = parseFilenameTemplate('{blog}/{date}/{mediaType}/{postId}.{ext}');
      expect(template.render(item({ postId: '', mediaType: '' }), '')).to.equal('unknown-blog/undated/media/post.bin');
      expect(template.render(item({ metadata: { blog: 42 } }), 'jpg')).to.match(/^unknown-blog\//);
      expect(template.render({ ...item(), metadata: 'blog' as unknown as Record<string, unknown> }, 'jpg')).to.match(/^unknown-blog\//);
    });

    it('should make one segment of a hostile extension', () => {
      const template = parseFilenameTemplate('{postId}.{ext}');
      expect(template.render(item(), '../../x')).to.equal('7431599279.x');
      expect(template.render(item(), 'a/b')).to.equal('7431599279.a_b');
    });

    it('should never spell a Windows device name, even with literal text beside a value', () => {
      expect(parseFilenameTemplate('co{blog}/{postId}.{ext}').render(item({ metadata: { blog: 'n' } }), 'jpg')).to.equal('_con/7431599279.jpg');
      expect(parseFilenameTemplate('x/{blog}.{ext}').render(item({ metadata: { blog: 'CON' } }), 'jpg')).to.equal('x/_CON.jpg');
      expect(parseFilenameTemplate('x/{blog}.{ext}').render(item({ metadata: { blog: 'lpt1' } }), 'jpg')).to.equal('x/_lpt1.jpg');
    });

    const hostile = [
      '../../etc',
      '..',
      '.',
      '',
      '.tumblr-dl',
      '.TUMBLR-DL',
      STATE_FOLDER,
      'CON',
      'nul',
      'ｃｏｎ',
      'x'.repeat(300),
      'a/b\\c',
      'a／b＼c',
      '／etc／passwd',
      '‥',
      '%2e%2e%2f',
      '\u0000',
      'a\u202eb',
      '/',
      'C:\\Windows',
    ];
    for (const value of hostile) {
      it(`should keep the name inside the output folder and out of ${STATE_FOLDER}/ when every value is ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`, () => {
        const template = parseFilenameTemplate('{blog}/{postId}/{date}/{mediaType}_{index}.{ext}');
        const name = template.render(item({ postId: value, mediaType: value, metadata: { blog: value, date: value } }), value);
        const segments = name.split('/');
        expect(segments, name).to.have.length(4);
        for (const segment of segments) {
          expect(segment, name).to.match(/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/);
          expect(segment.toLowerCase(), name).not.to.equal(STATE_FOLDER);
          expect(segment, name).not.to.match(/^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i);
        }
        for (const segment of segments.slice(0, 3)) expect(segment.length, name).to.be.at.most(64);
        const root = path.resolve('/tmp/out');
        expect(path.dirname(path.dirname(path.dirname(path.dirname(resolveInside(root, name)))))).to.equal(root);
      });
    }

    it('should refuse an index that is not a whole number ≥ 0, even when the template does not use it', () => {
      for (const index of [-1, 1.5, Number.NaN, 2 ** 53]) {
        expect(() => parseFilenameTemplate('{postId}.{ext}').render(item({ index }), 'jpg'), String(index))
          .to.throw(DownloadError, 'Media index must be a whole number ≥ 0')
          .with.property('code', 'UNSAFE_PATH');
      }
    });
  });
});

describe('collisionWarning', () => {
  it('should warn, with the suffix the downloader really gives, when two media can get one name', () => {
    expect(collisionWarning(parseFilenameTemplate('{blog}/{postId}.{ext}'))).to.equal(
      "tumblr-dl: --name '{blog}/{postId}.{ext}' can give two media one name; later ones get a numbered suffix (name_1.ext)",
    );
    expect(withSuffix('name.ext', 1)).to.equal('name_1.ext');
    expect(collisionWarning(parseFilenameTemplate('{blog}.{ext}'), '--name-template')).to.match(/^tumblr-dl: --name-template '\{blog\}\.\{ext\}' can/);
  });

  it('should say nothing when names cannot collide', () => {
    expect(collisionWarning(parseFilenameTemplate(DEFAULT_FILENAME_TEMPLATE))).to.equal(undefined);
    expect(collisionWarning(parseFilenameTemplate('{blog}/{postId}_{index}.{ext}'))).to.equal(undefined);
  });
});

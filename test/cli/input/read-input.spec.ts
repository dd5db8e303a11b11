import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { inputKind, readInput } from '../../../src/cli/input/read-input.js';
import type { InputEntry, MediaRow } from '../../../src/cli/input/input-entry.js';
import { tempDir } from '../../support/fixtures.js';

/** Every entry of an input, in order. */
async function entries(input: string): Promise<InputEntry[]> {
  const out: InputEntry[] = [];
  for await (const entry of readInput(input, await inputKind(input))) out.push(entry);
  return out;
}

/** Each entry as one comparable value: an item's URL and fallbacks, a problem's text, a warning's text. */
async function summarise(input: string): Promise<unknown[]> {
  return (await entries(input)).map((e) =>
    'problem' in e ? e.problem : 'warning' in e ? `warning: ${e.warning}` : 'embed' in e ? `embed ${e.embed.url}` : [e.url, e.fallbackUrls],
  );
}

const items = (all: InputEntry[]): MediaRow[] => all.filter((e): e is MediaRow => 'url' in e && 'postId' in e);

describe(readInput.name, () => {
  let work: ReturnType<typeof tempDir>;
  beforeEach(() => (work = tempDir()));
  afterEach(() => work.cleanup());

  const write = (name: string, text: string): string => {
    const file = path.join(work.dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };

  describe('JSON documents', () => {
    const post = (id: string, padding = ''): Record<string, unknown> => ({
      blog_name: 'staff',
      id_string: id,
      summary: padding,
      content: [{ type: 'image', media: [{ url: `https://64.media.tumblr.com/${id}/s2048x3072/a.jpg`, width: 2048 }] }],
    });

    it('should read a .json file of posts one a line as JSONL, however long its first line', async () => {
      const file = write('export.json', `${JSON.stringify(post('1', 'x'.repeat(200_000)))}\n${JSON.stringify(post('2'))}\n`);
      expect(await inputKind(file)).to.equal('lines');
      expect(items(await entries(file)).map((r) => r.postId)).to.deep.equal(['1', '2']);
    });

    it('should say that a saved API error response holds no posts', async () => {
      const file = write('page-9.json', JSON.stringify({ meta: { status: 429, msg: 'Limit Exceeded' }, response: [] }));
      expect(await summarise(file)).to.deep.equal(['an API error response (429 Limit Exceeded), not posts']);
    });

    it('should read a pretty-printed .json file as one document, and a page of posts in it', async () => {
      const file = write('page.json', JSON.stringify({ meta: { status: 200 }, response: { posts: [post('1'), post('2')] } }, null, 2));
      expect(await inputKind(file)).to.equal('document');
      const rows = items(await entries(file));
      expect(rows.map((r) => [r.postId, r.file, r.line])).to.deep.equal([
        ['1', 'page.json', 1],
        ['2', 'page.json', 2],
      ]);
    });
  });

  describe('line-based input', () => {
    it('should infer the media type of a bare URL from its extension, a .gifv being a GIF post and an .mp3 audio', async () => {
      const urls = ['a.jpg', 'b.mp4', 'c.gif', 'd.gifv', 'e.pnj', 'f', 'g.mp3'].map((name) => `https://64.media.tumblr.com/x/${name}`);
      const rows = items(await entries(write('urls.txt', urls.join('\n'))));
      expect(rows.map((r) => r.mediaType)).to.deep.equal(['image', 'video', 'gif', 'gif', 'image', 'image', 'audio']);
    });

    it('should read a priority from JSONL and CSV, any whole number, and refuse anything else as a bad line', async () => {
      const jsonl = write(
        'posts.jsonl',
        [
          '{"url": "https://h/a.jpg", "priority": 5}',
          '{"url": "https://h/b.jpg", "priority": "-2"}',
          '{"url": "https://h/c.jpg"}',
          '{"url": "https://h/d.jpg", "priority": 1.5}',
          '{"url": "https://h/e.jpg", "priority": true}',
        ].join('\n'),
      );
      expect((await entries(jsonl)).map((r) => ('problem' in r ? r.problem : (r as MediaRow).priority))).to.deep.equal([
        5,
        -2,
        undefined,
        '"priority" must be a string or a whole number, got 1.5',
        '"priority" must be a string or a whole number, got true',
      ]);
      const csv = write('media.csv', 'URL,Priority\nhttps://h/a.jpg,3\nhttps://h/b.jpg,\n');
      expect(items(await entries(csv)).map((r) => r.priority)).to.deep.equal([3, undefined]);
    });

    it('should read an item\'s URLs, best first, from "urls" (after "url" when both are given)', async () => {
      const jsonl = write(
        'posts.jsonl',
        [
          '{"urls": ["https://h/a_2048.jpg", "https://h/a_1280.jpg"]}',
          '{"url": "https://h/b.jpg", "urls": ["https://h/b.jpg", "https://m/b.jpg"]}',
          '{"urls": "https://h/c.jpg"}',
          '{"urls": []}',
        ].join('\n'),
      );
      expect(await summarise(jsonl)).to.deep.equal([
        ['https://h/a_2048.jpg', ['https://h/a_1280.jpg']],
        ['https://h/b.jpg', ['https://m/b.jpg']],
        '"urls" must be a list of URLs, got "https://h/c.jpg"',
        'no "url"',
      ]);
    });

    it("should keep an item line's metadata object as given and refuse one that is not an object", async () => {
      const jsonl = write(
        'items.jsonl',
        ['{"url": "https://h/a.jpg", "metadata": {"blog": "staff", "tags": ["a"]}}', '{"url": "https://h/b.jpg", "metadata": "staff"}'].join('\n'),
      );
      const all = await entries(jsonl);
      expect((all[0] as MediaRow).metadata).to.deep.equal({ blog: 'staff', tags: ['a'] });
      expect('problem' in all[1]! && all[1].problem).to.equal('"metadata" must be an object, got "staff"');
    });

    it('should warn once per run about each key no item takes, with the key it resembles, and still read the item', async () => {
      const jsonl = write(
        'items.jsonl',
        ['{"url": "https://h/a.jpg", "post_id": "1", "blog": "x"}', '{"url": "https://h/b.jpg", "post_id": "2"}', '{"url": "https://h/c.jpg", "mediatype": "gif"}'].join('\n'),
      );
      const all = await entries(jsonl);
      const warnings = all.filter((e) => 'warning' in e).map((e) => (e as { warning: string }).warning);
      expect(warnings).to.deep.equal([
        'input key "post_id" is not read: did you mean "postId"? (items take url, urls, postId, mediaType, index, priority, metadata)',
        'input key "blog" is not read (items take url, urls, postId, mediaType, index, priority, metadata)',
        'input key "mediatype" is not read: did you mean "mediaType"? (items take url, urls, postId, mediaType, index, priority, metadata)',
      ]);
      expect(items(all).map((r) => r.url)).to.deep.equal(['https://h/a.jpg', 'https://h/b.jpg', 'https://h/c.jpg']);
    });

    it('should warn about an unknown CSV column once', async () => {
      const csv = write('media.csv', 'url,post_id\nhttps://h/a.jpg,1\n');
      const all = await entries(csv);
      expect(all.filter((e) => 'warning' in e)).to.have.length(1);
    });

    it('should refuse a JSON line that is neither an item nor a post, naming its line (and the post within a page)', async () => {
      const all = await entries(write('bad.jsonl', ['[1]', '{"url": "https://h/a.jpg"}', '{nope'].join('\n')));
      expect(all.map((e) => ('problem' in e ? [e.at, e.problem] : 'ok'))).to.deep.equal([
        [{ line: 1, post: 1 }, 'not a post: a post has "blog_name" (or "blog.name") and "id_string" (or "id")'],
        'ok',
        [{ line: 3 }, 'not valid JSON'],
      ]);
    });
  });
});

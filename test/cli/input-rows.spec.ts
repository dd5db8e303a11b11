import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readInputRows, type MediaRow } from '../../src/cli/input-rows.js';
import { tempDir } from '../support/fixtures.js';

describe('readInputRows', () => {
  it('should infer the media type of a bare URL from its extension, a .gifv being a GIF post', async () => {
    const work = tempDir();
    try {
      const file = path.join(work.dir, 'urls.txt');
      const urls = ['a.jpg', 'b.mp4', 'c.gif', 'd.gifv', 'e.pnj', 'f'].map((name) => `https://64.media.tumblr.com/x/${name}`);
      writeFileSync(file, urls.join('\n'));
      const rows: MediaRow[] = [];
      for await (const row of readInputRows(file)) if (!('problem' in row)) rows.push(row);
      expect(rows.map((r) => r.mediaType)).to.deep.equal(['image', 'video', 'gif', 'gif', 'image', 'image']);
    } finally {
      work.cleanup();
    }
  });

  it('should read a priority from JSONL and CSV, any whole number, and refuse anything else as a bad line', async () => {
    const work = tempDir();
    try {
      const jsonl = path.join(work.dir, 'posts.jsonl');
      writeFileSync(
        jsonl,
        [
          '{"url": "https://h/a.jpg", "priority": 5}',
          '{"url": "https://h/b.jpg", "priority": "-2"}',
          '{"url": "https://h/c.jpg"}',
          '{"url": "https://h/d.jpg", "priority": 1.5}',
          '{"url": "https://h/e.jpg", "priority": true}',
        ].join('\n'),
      );
      const rows = [];
      for await (const row of readInputRows(jsonl)) rows.push(row);
      expect(rows.map((r) => ('problem' in r ? r.problem : r.priority))).to.deep.equal([
        5,
        -2,
        undefined,
        '"priority" must be a string or a whole number, got 1.5',
        '"priority" must be a string or a whole number, got true',
      ]);
      const csv = path.join(work.dir, 'media.csv');
      writeFileSync(csv, 'URL,Priority\nhttps://h/a.jpg,3\nhttps://h/b.jpg,\n');
      const fromCsv = [];
      for await (const row of readInputRows(csv)) if (!('problem' in row)) fromCsv.push(row.priority);
      expect(fromCsv).to.deep.equal([3, undefined]);
    } finally {
      work.cleanup();
    }
  });

  it('should read an item\'s URLs, best first, from "urls" (after "url" when both are given)', async () => {
    const work = tempDir();
    try {
      const jsonl = path.join(work.dir, 'posts.jsonl');
      writeFileSync(
        jsonl,
        [
          '{"urls": ["https://h/a_2048.jpg", "https://h/a_1280.jpg"]}',
          '{"url": "https://h/b.jpg", "urls": ["https://h/b.jpg", "https://m/b.jpg"]}',
          '{"urls": "https://h/c.jpg"}',
          '{"urls": []}',
        ].join('\n'),
      );
      const rows = [];
      for await (const row of readInputRows(jsonl)) rows.push('problem' in row ? row.problem : [row.url, row.fallbackUrls]);
      expect(rows).to.deep.equal([
        ['https://h/a_2048.jpg', ['https://h/a_1280.jpg']],
        ['https://h/b.jpg', ['https://m/b.jpg']],
        '"urls" must be a list of URLs, got "https://h/c.jpg"',
        'no "url"',
      ]);
    } finally {
      work.cleanup();
    }
  });
});

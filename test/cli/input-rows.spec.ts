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
});

import { expect } from 'chai';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PartIndex } from '../../../src/downloader/disk/part-index.js';
import { tempDir } from '../../support/fixtures.js';

describe(PartIndex.name, () => {
  describe('.mayExist', () => {
    it('should know the .part files and sidecars a directory held when first asked, and those kept since', async () => {
      const { dir, cleanup } = tempDir();
      writeFileSync(path.join(dir, 'a.jpg.part'), 'x');
      writeFileSync(path.join(dir, 'b.jpg.part.json'), '{}');
      writeFileSync(path.join(dir, 'c.jpg'), 'x');
      const index = new PartIndex();
      expect(await index.mayExist(path.join(dir, 'a.jpg.part'))).to.equal(true);
      expect(await index.mayExist(path.join(dir, 'b.jpg.part.json'))).to.equal(true);
      expect(await index.mayExist(path.join(dir, 'c.jpg.part'))).to.equal(false);
      await index.kept(path.join(dir, 'c.jpg.part'));
      expect(await index.mayExist(path.join(dir, 'c.jpg.part'))).to.equal(true);
      cleanup();
    });

    it('should answer no for a directory that does not exist yet, and maybe for one it cannot list', async () => {
      const { dir, cleanup } = tempDir();
      const index = new PartIndex();
      expect(await index.mayExist(path.join(dir, 'missing', 'a.jpg.part'))).to.equal(false);
      const locked = path.join(dir, 'locked');
      mkdirSync(locked);
      chmodSync(locked, 0o300); // writable and searchable, not listable
      const unlistable = await index.mayExist(path.join(locked, 'a.jpg.part'));
      chmodSync(locked, 0o700);
      // root lists anything: then the honest answer is the listing's.
      expect(unlistable).to.equal(process.getuid?.() === 0 ? false : true);
      cleanup();
    });
  });
});

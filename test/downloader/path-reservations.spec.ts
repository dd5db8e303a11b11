import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PathReservations, withSuffix } from '../../src/downloader/path-reservations.js';
import { tempDir } from '../support/fixtures.js';

describe(PathReservations.name, () => {
  describe('.reserve', () => {
    it('should never hand one name to two concurrent callers', async () => {
      const { dir, cleanup } = tempDir();
      const reservations = new PathReservations();
      const target = path.join(dir, 'a.jpg');
      const got = await Promise.all(Array.from({ length: 20 }, () => reservations.reserve(target)));
      const names = got.map((r) => path.basename(r.path));
      expect(new Set(names).size).to.equal(20);
      expect(names).to.include.members(['a.jpg', 'a_1.jpg', 'a_19.jpg']);
      cleanup();
    });

    it('should skip names that exist on disk and reuse released ones', async () => {
      const { dir, cleanup } = tempDir();
      const reservations = new PathReservations();
      const target = path.join(dir, 'a.jpg');
      writeFileSync(target, 'x');
      const first = await reservations.reserve(target);
      expect(path.basename(first.path)).to.equal('a_1.jpg');
      first.release();
      expect((await reservations.reserve(target)).path).to.equal(first.path);
      cleanup();
    });
  });

  it('withSuffix should insert the counter before the extension', () => {
    expect(withSuffix('/d/name.tar.jpg', 3)).to.equal('/d/name.tar_3.jpg');
    expect(withSuffix('/d/noext', 1)).to.equal('/d/noext_1');
  });
});

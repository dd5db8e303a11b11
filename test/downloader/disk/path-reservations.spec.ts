import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { linkNoClobber } from '../../../src/downloader/disk/finalize.js';
import { PathReservations, withSuffix } from '../../../src/downloader/disk/path-reservations.js';
import { tempDir } from '../../support/fixtures.js';

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

    it('should reuse a released name, and start from a given variant', () => {
      const reservations = new PathReservations();
      const first = reservations.reserve('/d/a.jpg');
      first.release();
      expect(reservations.reserve('/d/a.jpg').path).to.equal('/d/a.jpg');
      expect(reservations.reserve('/d/a.jpg', 3)).to.include({ path: '/d/a_3.jpg', variant: 3 });
    });
  });

  describe('linkNoClobber', () => {
    it('should take the next free variant when files already hold the names, never replacing one', async () => {
      const { dir, cleanup } = tempDir();
      const reservations = new PathReservations();
      const target = path.join(dir, 'a.jpg');
      writeFileSync(target, 'old');
      writeFileSync(withSuffix(target, 1), 'older');
      writeFileSync(path.join(dir, 'new.part'), 'new');
      const { reservation, outcome } = await linkNoClobber(path.join(dir, 'new.part'), reservations.reserve(target), reservations);
      expect(outcome).to.equal('linked');
      expect(path.basename(reservation.path)).to.equal('a_2.jpg');
      expect([target, withSuffix(target, 1), reservation.path].map((f) => readFileSync(f, 'utf8'))).to.deep.equal(['old', 'older', 'new']);
      expect(reservations.isHeld(target) || reservations.isHeld(withSuffix(target, 1)), 'the names tried are given back').to.equal(false);
      cleanup();
    });

    it('should stop at a taken name whose file the caller says holds the same bytes, linking nothing', async () => {
      const { dir, cleanup } = tempDir();
      const reservations = new PathReservations();
      const target = path.join(dir, 'a.jpg');
      writeFileSync(target, 'other bytes');
      writeFileSync(withSuffix(target, 1), 'same');
      writeFileSync(path.join(dir, 'new.part'), 'same');
      const same = async (file: string): Promise<boolean> => readFileSync(file, 'utf8') === 'same';
      const { reservation, outcome } = await linkNoClobber(path.join(dir, 'new.part'), reservations.reserve(target), reservations, same);
      expect(outcome).to.equal('already-there');
      expect(path.basename(reservation.path)).to.equal('a_1.jpg');
      expect(readdirSync(dir).sort()).to.deep.equal(['a.jpg', 'a_1.jpg', 'new.part']);
      cleanup();
    });
  });

  it('withSuffix should insert the counter before the extension', () => {
    expect(withSuffix('/d/name.tar.jpg', 3)).to.equal('/d/name.tar_3.jpg');
    expect(withSuffix('/d/noext', 1)).to.equal('/d/noext_1');
  });
});

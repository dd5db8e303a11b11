import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BLOCKING_TURN_MS, checkRecordedFile, RecordedFileChecker, type RecordedFile } from '../../src/ledger/check-recorded-file.js';
import { blockingIo, pooledIo, type FileIo } from '../../src/verify/file-io.js';
import { filler, sha256, tempDir } from '../support/fixtures.js';

/** Small chunks, so a file of a few KiB takes the chunked, read-ahead path. */
const CHUNK = 4096;

/** `io` with some calls replaced, and a count of every call made. */
function watched(io: FileIo, replace: Partial<FileIo> = {}): { io: FileIo; calls: Record<keyof FileIo, number> } {
  const calls = { lstat: 0, open: 0, fstat: 0, read: 0, close: 0 };
  const merged = { ...io, ...replace };
  return {
    calls,
    io: {
      lstat: (file) => (calls.lstat++, merged.lstat(file)),
      open: (file, flags) => (calls.open++, merged.open(file, flags)),
      fstat: (fd) => (calls.fstat++, merged.fstat(fd)),
      read: (fd, buffer, offset, length, position) => (calls.read++, merged.read(fd, buffer, offset, length, position)),
      close: (fd) => (calls.close++, merged.close(fd)),
    },
  };
}

describe(RecordedFileChecker.name, () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  /** Write `body` at `name` and return the ledger's record of it. */
  const saved = (name: string, body: Buffer): RecordedFile => {
    const filename = path.join(dir, name);
    writeFileSync(filename, body);
    return { filename, bytes: body.length, sha256: sha256(body), mtimeMs: statSync(filename).mtimeMs };
  };

  for (const blocking of [false, true]) {
    const io = blocking ? blockingIo : pooledIo;
    describe(`.check (${blocking ? 'blocking' : 'through the thread pool'})`, () => {
      const checker = (replace: Partial<FileIo> = {}) => {
        const spy = watched(io, replace);
        return { checker: new RecordedFileChecker({ blocking, chunkBytes: CHUNK, io: spy.io }), calls: spy.calls };
      };

      it('should find a small and a chunked file intact, with their size, time and SHA-256, and close each', async () => {
        for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 17]) {
          const record = saved(`f${size}.jpg`, filler(size, size + 1));
          const { checker: c, calls } = checker();
          const check = await c.check(record, { hash: true });
          expect(check, `size ${size}`).to.deep.equal({ state: 'intact', bytes: size, mtimeMs: record.mtimeMs, sha256: record.sha256, hashed: true });
          expect(calls.close, `size ${size}`).to.equal(calls.open);
        }
      });

      it('should find a changed byte anywhere in a small or a chunked file', async () => {
        for (const [size, at] of [
          [100, 50],
          [5 * CHUNK + 17, 0],
          [5 * CHUNK + 17, 3 * CHUNK + 2],
          [5 * CHUNK + 17, 5 * CHUNK + 16],
        ] as const) {
          const body = filler(size, 3);
          const record = saved('a.jpg', body);
          body[at] = body[at]! ^ 1;
          writeFileSync(record.filename, body);
          const check = await checker().checker.check(record, { hash: true });
          expect(check.state, `byte ${at} of ${size}`).to.equal('hash-mismatch');
          expect(check.sha256).to.equal(sha256(body));
        }
      });

      it('should report another size without reading, and a file gone or under a file as missing', async () => {
        const record = saved('a.jpg', filler(300));
        writeFileSync(record.filename, filler(200));
        const { checker: c, calls } = checker();
        expect(await c.check(record, { hash: true })).to.deep.include({ state: 'size-mismatch', bytes: 200 });
        expect(calls.read).to.equal(0);
        expect((await c.check({ ...record, filename: path.join(dir, 'gone.jpg') }, { hash: true })).state).to.equal('missing');
        expect((await c.check({ ...record, filename: path.join(record.filename, 'under-a-file.jpg') }, { hash: true })).state).to.equal('missing');
      });

      it('should call a symlink at a recorded name not regular, and never read what it points to', async () => {
        const body = filler(CHUNK * 2);
        const target = saved('target.bin', body);
        const link = path.join(dir, 'link.jpg');
        symlinkSync(target.filename, link);
        for (const options of [{ hash: true }, { hash: false }, { hash: true, trustMtime: true }]) {
          const { checker: c, calls } = checker();
          // Followed, the link would be intact: same bytes, same size.
          expect(await c.check({ ...target, filename: link }, options), JSON.stringify(options)).to.deep.equal({ state: 'not-regular' });
          expect(calls.read, JSON.stringify(options)).to.equal(0);
        }
        symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling.jpg'));
        expect((await checker().checker.check({ ...target, filename: path.join(dir, 'dangling.jpg') }, { hash: true })).state).to.equal('not-regular');
      });

      it('should call a directory or a FIFO at a recorded name not regular, without waiting for a writer', async function () {
        mkdirSync(path.join(dir, 'folder.jpg'));
        expect((await checker().checker.check({ filename: path.join(dir, 'folder.jpg'), bytes: 0, sha256: sha256(Buffer.alloc(0)) }, { hash: true })).state).to.equal(
          'not-regular',
        );
        const fifo = path.join(dir, 'fifo.jpg');
        if (process.platform === 'win32' || spawnSync('mkfifo', [fifo]).status !== 0) this.skip();
        expect((await checker().checker.check({ filename: fifo, bytes: 0, sha256: sha256(Buffer.alloc(0)) }, { hash: true })).state).to.equal('not-regular');
      });

      it('should report a file cut between its fstat and its read as missing, not throw', async () => {
        for (const size of [1000, 5 * CHUNK]) {
          const record = saved('a.jpg', filler(size));
          const cutAfterFstat: Partial<FileIo> = {
            fstat: async (fd) => {
              const stat = await io.fstat(fd);
              truncateSync(record.filename, 10);
              return stat;
            },
          };
          const { checker: c, calls } = checker(cutAfterFstat);
          expect(await c.check(record, { hash: true }), `size ${size}`).to.deep.equal({ state: 'missing' });
          expect(calls.close, 'the descriptor is closed').to.equal(1);
        }
      });

      it('should report a chunked file cut while being read as missing', async () => {
        const record = saved('a.jpg', filler(6 * CHUNK));
        let reads = 0;
        const { checker: c } = checker({
          read: (fd, buffer, offset, length, position) => {
            if (++reads === 2) truncateSync(record.filename, 2 * CHUNK);
            return io.read(fd, buffer, offset, length, position);
          },
        });
        expect(await c.check(record, { hash: true })).to.deep.equal({ state: 'missing' });
      });

      it('should report a file whose read fails as missing, and close it', async () => {
        const record = saved('a.jpg', filler(3 * CHUNK));
        const { checker: c, calls } = checker({
          read: () => {
            throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
          },
        });
        expect(await c.check(record, { hash: true })).to.deep.equal({ state: 'missing' });
        expect(calls.close).to.equal(1);
      });

      it('should compare sizes only, without opening, when not asked to hash', async () => {
        const record = saved('a.jpg', filler(100));
        writeFileSync(record.filename, filler(100, 99));
        const { checker: c, calls } = checker();
        expect(await c.check(record, { hash: false })).to.deep.include({ state: 'intact', bytes: 100, hashed: false });
        expect(calls.open).to.equal(0);
      });

      it('should trust an unchanged size and time without opening, and read a file whose time changed', async () => {
        const record = saved('a.jpg', filler(100));
        const { checker: c, calls } = checker();
        expect(await c.check(record, { hash: true, trustMtime: true })).to.deep.include({ state: 'intact', hashed: false });
        expect(calls.open).to.equal(0);
        utimesSync(record.filename, new Date(1_000_000), new Date(1_000_000));
        expect(await c.check(record, { hash: true, trustMtime: true })).to.deep.include({ state: 'intact', hashed: true, mtimeMs: 1_000_000 });
        expect(calls.open).to.equal(1);
      });

      it('should give each of many concurrent checks its own bytes', async () => {
        const records = Array.from({ length: 24 }, (_, i) => saved(`f${i}.jpg`, filler(i % 2 ? 300 + i : 4 * CHUNK + i, i + 1)));
        const c = checker().checker;
        const checks = await Promise.all(records.map((r) => c.check(r, { hash: true })));
        expect(checks.map((check) => check.state)).to.deep.equal(records.map(() => 'intact'));
      });
    });
  }

  describe('.check (blocking)', () => {
    it(`should let the event loop turn once its calls have held it ${BLOCKING_TURN_MS} ms`, async () => {
      const record = saved('a.jpg', filler(100));
      const slow = watched(blockingIo, {
        read: (fd, buffer, offset, length, position) => {
          for (const until = performance.now() + BLOCKING_TURN_MS + 5; performance.now() < until;);
          return blockingIo.read(fd, buffer, offset, length, position);
        },
      });
      const checker = new RecordedFileChecker({ blocking: true, io: slow.io });
      await nextTurn();
      let turned = false;
      setImmediate(() => (turned = true));
      expect((await checker.check(record, { hash: true })).state).to.equal('intact');
      expect(turned, 'not before the first slow check').to.equal(false);
      expect((await checker.check(record, { hash: true })).state).to.equal('intact');
      expect(turned, 'before the second').to.equal(true);
    });
  });
});

describe(checkRecordedFile.name, () => {
  it('should check through the thread pool with the documented answers', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const body = filler(3 * 1024 * 1024 + 5);
      const filename = path.join(dir, 'big.mp4');
      writeFileSync(filename, body);
      expect(await checkRecordedFile({ filename, bytes: body.length, sha256: sha256(body) }, { hash: true })).to.deep.include({ state: 'intact', hashed: true });
      expect((await checkRecordedFile({ filename, bytes: body.length, sha256: 'f'.repeat(64) }, { hash: true })).state).to.equal('hash-mismatch');
      symlinkSync(filename, path.join(dir, 'link.mp4'));
      expect((await checkRecordedFile({ filename: path.join(dir, 'link.mp4'), bytes: body.length, sha256: sha256(body) }, { hash: true })).state).to.equal('not-regular');
    } finally {
      cleanup();
    }
  });
});

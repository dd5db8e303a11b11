import { expect } from 'chai';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BufferPool, HASH_CHUNK_BYTES, sha256OfDescriptor, sha256OfFile } from '../../src/verify/file-digest.js';
import { filler, sha256, tempDir } from '../support/fixtures.js';

describe('file-digest', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  const write = (body: Buffer): string => {
    const file = path.join(dir, 'f.bin');
    writeFileSync(file, body);
    return file;
  };

  describe(sha256OfDescriptor.name, () => {
    const withFd = async <T>(file: string, use: (fd: number) => Promise<T>): Promise<T> => {
      const fd = openSync(file, 'r');
      try {
        return await use(fd);
      } finally {
        closeSync(fd);
      }
    };

    it('should hash every size around the chunk edges, in one read or in chunks', async () => {
      const pool = new BufferPool(1024);
      for (const size of [0, 1, 1023, 1024, 1025, 2048, 2049, 10 * 1024 + 7]) {
        const body = filler(size, size + 2);
        const digest = await withFd(write(body), (fd) => sha256OfDescriptor(fd, size, { buffers: pool }));
        expect(digest, `size ${size}`).to.deep.equal({ sha256: sha256(body), bytesRead: size });
      }
    });

    it('should hash only the prefix asked for, and say where a file ended first', async () => {
      const pool = new BufferPool(1024);
      const body = filler(5000);
      const file = write(body);
      expect(await withFd(file, (fd) => sha256OfDescriptor(fd, 3000, { buffers: pool }))).to.deep.equal({ sha256: sha256(body.subarray(0, 3000)), bytesRead: 3000 });
      for (const asked of [800, 8000]) {
        const digest = await withFd(write(body.subarray(0, 700)), (fd) => sha256OfDescriptor(fd, asked, { buffers: pool }));
        expect(digest, `asked ${asked}`).to.deep.equal({ sha256: sha256(body.subarray(0, 700)), bytesRead: 700 });
      }
    });
  });

  describe(sha256OfFile.name, () => {
    it('should hash a file larger than a chunk as a whole', async () => {
      const body = filler(2 * HASH_CHUNK_BYTES + 3);
      expect(await sha256OfFile(write(body), body.length)).to.equal(sha256(body));
    });

    it('should fail for a file that is not there', async () => {
      let failed: unknown;
      await sha256OfFile(path.join(dir, 'nowhere'), 10).catch((error: unknown) => (failed = error));
      expect(failed).to.have.property('code', 'ENOENT');
    });
  });

  describe(BufferPool.name, () => {
    it('should hand back buffers given to it, and keep no more than it was told', () => {
      const pool = new BufferPool(16, 2);
      const taken = [pool.take(), pool.take(), pool.take()];
      expect(taken.every((b) => b.length === 16)).to.equal(true);
      for (const b of taken) pool.give(b);
      const again = [pool.take(), pool.take(), pool.take()];
      expect(again.filter((b) => taken.includes(b))).to.have.length(2);
    });
  });
});

import { expect } from 'chai';
import { closeSync, openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeFullyAt } from '../../../src/downloader/disk/write-fully.js';
import { tempDir } from '../../support/fixtures.js';

describe(writeFullyAt.name, () => {
  it('should write every buffer, in order, from the position given, leaving the bytes before it', async () => {
    const temp = tempDir();
    const file = path.join(temp.dir, 'f');
    const fd = openSync(file, 'w+');
    try {
      await writeFullyAt(fd, [Buffer.from('0123456789')], 0);
      await writeFullyAt(fd, [Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')], 3);
      await writeFullyAt(fd, [Buffer.alloc(200_000, 7)], 10);
      const bytes = readFileSync(file);
      expect(bytes.subarray(0, 10).toString()).to.equal('012abcde89');
      expect(bytes.length).to.equal(200_010);
      expect(bytes.subarray(10).every((b) => b === 7)).to.equal(true);
    } finally {
      closeSync(fd);
      temp.cleanup();
    }
  });

  it('should reject with the error code of a write the file refuses', async () => {
    const temp = tempDir();
    const readOnly = openSync(path.join(temp.dir, 'r'), 'w');
    closeSync(readOnly);
    const fd = openSync(path.join(temp.dir, 'r'), 'r');
    try {
      const error = await writeFullyAt(fd, [Buffer.from('x'), Buffer.from('y')], 0).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(error?.code).to.equal('EBADF');
    } finally {
      closeSync(fd);
      temp.cleanup();
    }
  });
});

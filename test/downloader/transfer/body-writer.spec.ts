import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { writeBody } from '../../../src/downloader/transfer/body-writer.js';
import { ByteMeter } from '../../../src/downloader/transfer/byte-meter.js';
import { StructureProbe } from '../../../src/verify/structure-probe.js';
import { tempDir } from '../../support/fixtures.js';

describe(writeBody.name, () => {
  const meter = (): ByteMeter => new ByteMeter({ hash: createHash('sha256'), probe: new StructureProbe(), check: () => undefined });
  const chunks = (): Readable => Readable.from([Buffer.alloc(1000, 1), Buffer.alloc(1000, 2), Buffer.alloc(1000, 3), Buffer.alloc(1000, 4)]);

  it('should not call a body held back by the bandwidth cap stalled, and still write it whole', async () => {
    const temp = tempDir();
    try {
      const part = path.join(temp.dir, 'a.part');
      // Each chunk waits longer than the stall window: only the pacing keeps the bytes from arriving.
      const pace = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 120));
      const written = await writeBody(chunks(), { part, offset: 0, encoding: undefined }, meter(), { minBytes: 1, windowMs: 50 }, 'http://h/a', pace);
      await written.seal();
      expect(readFileSync(part)).to.have.length(4000);
    } finally {
      temp.cleanup();
    }
  });

  it('should still call a body stalled when the server sends nothing, pacing or not', async () => {
    const temp = tempDir();
    try {
      const silent = new Readable({ read() {} }); // never sends a byte
      const writing = writeBody(silent, { part: path.join(temp.dir, 'b.part'), offset: 0, encoding: undefined }, meter(), { minBytes: 1, windowMs: 50 }, 'http://h/b', () =>
        Promise.resolve(),
      );
      await writing.then(
        () => expect.fail('a silent body was written'),
        (error: Error & { code?: string }) => expect(error.code).to.equal('STALLED'),
      );
    } finally {
      temp.cleanup();
    }
  });
});

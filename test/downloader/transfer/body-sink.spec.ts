import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { BodySink, type BodySinkOptions } from '../../../src/downloader/transfer/body-sink.js';
import { ByteMeter } from '../../../src/downloader/transfer/byte-meter.js';
import { StructureProbe } from '../../../src/verify/structure-probe.js';
import { tempDir } from '../../support/fixtures.js';
import { waitUntil } from '../../support/wait-until.js';

/** A meter hashing what it is given; `limit` refuses a body past that many bytes. */
function meter(limit = Infinity): { meter: ByteMeter; hash: ReturnType<typeof createHash> } {
  const hash = createHash('sha256');
  const check = (bytes: number): Error | undefined => (bytes > limit ? new Error(`past ${limit}`) : undefined);
  return { meter: new ByteMeter({ hash, probe: new StructureProbe(), check }), hash };
}

const plain = (extra: Partial<BodySinkOptions> = {}): BodySinkOptions => ({
  pace: undefined,
  held: { waiting: false, waitedInWindow: false },
  decoder: undefined,
  onWireBytes: undefined,
  ...extra,
});

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** `count` chunks of `size` bytes, each filled with its own number. */
const chunks = (count: number, size: number): Buffer[] => Array.from({ length: count }, (_, i) => Buffer.alloc(size, i + 1));

describe(BodySink.name, () => {
  let temp: ReturnType<typeof tempDir>;
  let file: string;
  let fd: number;
  beforeEach(() => {
    temp = tempDir();
    file = path.join(temp.dir, 'x.part');
    fd = openSync(file, 'w+');
  });
  afterEach(() => {
    closeSync(fd);
    temp.cleanup();
  });

  it('should write a body of many chunks, past the memory bound, byte for byte at its offset', async () => {
    const body = chunks(40, 100_000); // 4 MB: several batches, and the source paused for the disk
    const { meter: m, hash } = meter();
    await new BodySink(fd, 0, m, plain()).drain(Readable.from(body));
    const written = readFileSync(file);
    expect(written.length).to.equal(4_000_000);
    expect(sha256(written)).to.equal(sha256(Buffer.concat(body)));
    expect(hash.digest('hex')).to.equal(sha256(written));
  });

  it('should keep every metered byte of a body cut short, for a resume, and reject with the cut', async () => {
    const source = new PassThrough();
    const { meter: m } = meter();
    const draining = new BodySink(fd, 0, m, plain()).drain(source);
    source.write(Buffer.alloc(3000, 7));
    source.write(Buffer.alloc(2000, 8));
    setImmediate(() => source.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    const error = await draining.then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(error?.code).to.equal('ECONNRESET');
    expect(readFileSync(file).length).to.equal(m.bytes).and.to.equal(5000);
  });

  it('should have every byte of a large body on disk while the server is silent, for a resume after a kill', async () => {
    const source = new PassThrough();
    const { meter: m } = meter();
    const draining = new BodySink(fd, 0, m, plain()).drain(source);
    source.write(Buffer.alloc(300 * 1024, 1)); // past the first batch
    source.write(Buffer.alloc(10 * 1024, 2)); // then a little, and silence
    await waitUntil(() => statSync(file).size === 310 * 1024, { what: '310 KiB on disk' });
    source.end();
    await draining;
  });

  it('should stop at a refusal of the meter and destroy the source', async () => {
    const source = Readable.from(chunks(10, 1000));
    const { meter: m } = meter(2500);
    const error = await new BodySink(fd, 0, m, plain()).drain(source).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).to.equal('past 2500');
    expect(source.destroyed).to.equal(true);
  });

  it('should write after a kept prefix, at the offset given', async () => {
    const { meter: m } = meter();
    await new BodySink(fd, 10, m, plain()).drain(Readable.from([Buffer.from('tail')]));
    expect(readFileSync(file).subarray(10).toString()).to.equal('tail');
  });

  it('should decode a gzip body on the way, counting the bytes on the wire', async () => {
    const original = Buffer.concat(chunks(8, 50_000));
    const wire = gzipSync(original);
    let wireBytes = 0;
    const { meter: m } = meter();
    await new BodySink(fd, 0, m, plain({ decoder: createGunzip(), onWireBytes: (b) => (wireBytes = b) })).drain(Readable.from([wire.subarray(0, 100), wire.subarray(100)]));
    expect(sha256(readFileSync(file))).to.equal(sha256(original));
    expect(wireBytes).to.equal(wire.length);
  });

  it('should reject a body that is not the gzip it claims', async () => {
    const { meter: m } = meter();
    const error = await new BodySink(fd, 0, m, plain({ decoder: createGunzip() })).drain(Readable.from([Buffer.from('not gzip at all')])).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(error?.code).to.equal('Z_DATA_ERROR');
  });

  it('should fail with the disk error when a write is refused, and settle', async () => {
    const readOnly = openSync(file, 'r');
    try {
      const { meter: m } = meter();
      const error = await new BodySink(readOnly, 0, m, plain()).drain(Readable.from(chunks(2, 1000))).then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      expect(error?.code).to.equal('EBADF');
    } finally {
      closeSync(readOnly);
    }
  });

  it('should pass each chunk only as fast as the pacer allows, and say it held the body', async () => {
    const held = { waiting: false, waitedInWindow: false };
    const paced: number[] = [];
    const pace = (bytes: number): Promise<void> => new Promise((resolve) => setTimeout(() => (paced.push(bytes), resolve()), 5));
    const { meter: m } = meter();
    await new BodySink(fd, 0, m, plain({ pace, held })).drain(Readable.from(chunks(4, 1000)));
    expect(paced).to.deep.equal([1000, 1000, 1000, 1000]);
    expect(held.waitedInWindow).to.equal(true);
    expect(readFileSync(file).length).to.equal(4000);
  });
});

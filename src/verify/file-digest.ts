import { constants, createReadStream } from 'node:fs';
import { createHash, hash as sha256Once, type Hash } from 'node:crypto';
import { pooledIo, type FileIo } from './file-io.js';
import { StructureProbe } from './structure-probe.js';

/**
 * Bytes read at a time when a file is hashed: a file up to this size is read in one call; a larger one in
 * chunks of it, with the next read under way while one is hashed. 1 MiB keeps a read shorter than the hash of
 * the chunk before it (reading from the page cache runs at several GB/s, SHA-256 at about 1.4 GB/s).
 */
export const HASH_CHUNK_BYTES = 1024 * 1024;

/**
 * Feed the first `length` bytes of a file into `hash` (and `probe`, when given): after a resume the
 * checksum and the structure check must cover the whole file, not just the bytes of this transfer.
 */
export async function hashPrefix(file: string, length: number, hash: Hash, probe?: StructureProbe): Promise<void> {
  if (length === 0) return;
  // A fresh buffer per chunk: the probe keeps the last chunks it was given.
  for await (const chunk of createReadStream(file, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    probe?.update(chunk);
  }
}

/** A fresh SHA-256 hasher. */
export function newSha256(): Hash {
  return createHash('sha256');
}

/**
 * Buffers of one size, taken for a read and given back after it, so hashing files allocates nothing per
 * file. At most `keep` are kept between uses: the memory stays bounded however many files pass.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  /**
   * @param size bytes in each buffer
   * @param keep buffers kept for reuse. @default 8
   */
  constructor(
    readonly size: number,
    private readonly keep = 8,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}

/** Shared by the hashing of callers that bring no pool of their own; safe across concurrent calls. */
const sharedBuffers = new BufferPool(HASH_CHUNK_BYTES);

/** What {@link sha256OfDescriptor} read. */
export interface DescriptorDigest {
  /** SHA-256 (hex) of the bytes read. */
  sha256: string;
  /** Bytes hashed: fewer than asked when the file ended first (it was cut while being read). */
  bytesRead: number;
}

/** How {@link sha256OfDescriptor} reads. */
export interface DescriptorReads {
  /** Where its buffers come from; their size is the chunk size. @default a shared pool of 1 MiB buffers */
  buffers?: BufferPool;
  /** Reads a file that fits one buffer, in one call (it may block). @default pooledIo */
  io?: FileIo;
  /** Reads the chunks of a larger file: through the thread pool, for the next read to run while a chunk is hashed. @default pooledIo */
  chunkIo?: FileIo;
}

/**
 * SHA-256 of the first `size` bytes of an open file. A file that fits one buffer takes one read; a larger one
 * is read a buffer at a time into two buffers, the next read under way while the current chunk is hashed, so
 * the disk and the hash work at the same time. Stops early, without error, where the file ends.
 */
export async function sha256OfDescriptor(fd: number, size: number, reads: DescriptorReads = {}): Promise<DescriptorDigest> {
  const { buffers = sharedBuffers, io = pooledIo, chunkIo = pooledIo } = reads;
  if (size > buffers.size) return hashInChunks(fd, size, buffers, chunkIo);
  const buffer = buffers.take();
  try {
    const bytesRead = await readFully(io, fd, buffer, size);
    return { sha256: sha256Once('sha256', buffer.subarray(0, bytesRead), 'hex'), bytesRead };
  } finally {
    buffers.give(buffer);
  }
}

/** Read from the start of the file until `length` bytes or its end; the count read. */
async function readFully(io: FileIo, fd: number, buffer: Buffer, length: number): Promise<number> {
  let filled = 0;
  while (filled < length) {
    const bytesRead = await io.read(fd, buffer, filled, length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Double buffering: while one buffer is hashed, the next chunk is read into the other. */
async function hashInChunks(fd: number, size: number, buffers: BufferPool, io: FileIo): Promise<DescriptorDigest> {
  const hash = createHash('sha256');
  const first = buffers.take();
  const second = buffers.take();
  const readAt = (buffer: Buffer, position: number): Promise<number> => Promise.resolve(io.read(fd, buffer, 0, Math.min(buffer.length, size - position), position));
  let pending: Promise<number> | undefined = readAt(first, 0);
  let filling = first;
  let spare = second;
  let position = 0;
  try {
    while (pending) {
      const bytesRead: number = await pending;
      pending = undefined;
      if (bytesRead === 0) break;
      position += bytesRead;
      if (position < size) pending = readAt(spare, position);
      hash.update(bytesRead === filling.length ? filling : filling.subarray(0, bytesRead));
      const hashed = filling;
      filling = spare;
      spare = hashed;
    }
  } finally {
    // A read still under way writes into its buffer: it must end before the buffer is reused or the file closed.
    await pending?.catch(() => {});
    buffers.give(first);
    buffers.give(second);
  }
  return { sha256: hash.digest('hex'), bytesRead: position };
}

/** SHA-256 (hex) of the first `size` bytes of a file: the whole file when `size` is its length. */
export async function sha256OfFile(file: string, size: number): Promise<string> {
  // No structure probe here: `verify` hashes whole archives, and only the hash is wanted.
  const fd = await pooledIo.open(file, constants.O_RDONLY);
  try {
    return (await sha256OfDescriptor(fd, size)).sha256;
  } finally {
    await pooledIo.close(fd);
  }
}

/** SHA-256 of a file and what its structure shows, read once: for judging a file found on disk like a download. */
export async function analyseFile(file: string, size: number): Promise<{ sha256: string; probe: StructureProbe }> {
  const hash = newSha256();
  const probe = new StructureProbe();
  await hashPrefix(file, size, hash, probe);
  return { sha256: hash.digest('hex'), probe };
}

import { constants, type Stats } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BufferPool, HASH_CHUNK_BYTES, sha256OfDescriptor, type DescriptorReads } from '../verify/file-digest.js';
import { blockingIo, isAbsent, pooledIo, type FileIo } from '../verify/file-io.js';
import type { LedgerRecord } from './download-ledger.js';

/** What {@link checkRecordedFile} found. */
export interface FileCheck {
  /**
   * `intact`: a regular file with the recorded size and (when read) SHA-256. `not-regular`: a symbolic
   * link, directory or device stands at the name; it is never followed, hashed or linked to.
   */
  state: 'intact' | 'missing' | 'not-regular' | 'size-mismatch' | 'hash-mismatch';
  /** Size on disk, when a regular file exists. */
  bytes?: number;
  /** SHA-256 of the file, when it was read. */
  sha256?: string;
  /** Modification time of the file (epoch ms), when a regular file exists. */
  mtimeMs?: number;
  /** Whether the file was read and hashed (not trusted on its size and time). */
  hashed?: boolean;
}

/** How much {@link checkRecordedFile} may trust without reading the file. */
export interface CheckOptions {
  /** `false`: compare sizes only (a quick sweep); `true`: read the file unless {@link trustMtime} lets it skip. */
  hash: boolean;
  /** Trust a file whose size and modification time are still the recorded ones, without reading it. @default false */
  trustMtime?: boolean;
}

/** A recorded file as `RecordedFileChecker.check` needs it. */
export type RecordedFile = Pick<LedgerRecord, 'filename' | 'bytes' | 'sha256' | 'mtimeMs'>;

/** How a {@link RecordedFileChecker} reads. */
export interface RecordedFileCheckerOptions {
  /**
   * Make the file calls blocking, except the reads of a file larger than {@link chunkBytes}: for a sweep with
   * nothing else to do (`verify`), where a round trip through the thread pool costs more than a warm read. The
   * event loop still turns every {@link BLOCKING_TURN_MS}, so signals and output are not held up.
   * @default false
   */
  blocking?: boolean;
  /** A file up to this size is read in one call, a larger one in chunks of it. @default HASH_CHUNK_BYTES (1 MiB) */
  chunkBytes?: number;
  /** The file calls, for every read (a test wraps them). @default blockingIo when blocking, else pooledIo */
  io?: FileIo;
}

/** Longest run of blocking calls before a {@link RecordedFileChecker} lets the event loop turn. */
export const BLOCKING_TURN_MS = 20;

/** `O_NOFOLLOW` where the platform has it (not Windows): a symbolic link at the name fails the open with `ELOOP`. */
const NO_FOLLOW = constants.O_NOFOLLOW as number | undefined;
/** A FIFO at a recorded name must not block the open: it is found not regular by fstat, and closed. */
const OPEN_FLAGS = constants.O_RDONLY | (NO_FOLLOW ?? 0) | ((constants.O_NONBLOCK as number | undefined) ?? 0);

/**
 * Checks recorded files against the ledger (see {@link checkRecordedFile}), reading each through one
 * descriptor: open without following a symbolic link, fstat, then the bytes into reused buffers (one read
 * for a file up to {@link RecordedFileCheckerOptions.chunkBytes}, chunks read ahead of the hash beyond).
 * Safe for concurrent checks; at most eight buffers are kept between them.
 */
export class RecordedFileChecker {
  private readonly io: FileIo;
  /** Reads of large files go through the thread pool even when blocking, so the next chunk is read while one is hashed. */
  private readonly reads: DescriptorReads;
  private readonly blocking: boolean;
  private lastTurn = performance.now();

  constructor(options: RecordedFileCheckerOptions = {}) {
    this.blocking = options.blocking ?? false;
    this.io = options.io ?? (this.blocking ? blockingIo : pooledIo);
    this.reads = { buffers: new BufferPool(options.chunkBytes ?? HASH_CHUNK_BYTES), io: this.io, chunkIo: options.io ?? pooledIo };
  }

  /** Is the file the ledger recorded still what was saved? See {@link checkRecordedFile}. */
  async check(record: RecordedFile, options: CheckOptions): Promise<FileCheck> {
    if (this.blocking && performance.now() - this.lastTurn > BLOCKING_TURN_MS) {
      await nextTurn();
      this.lastTurn = performance.now();
    }
    if (!options.hash || options.trustMtime || NO_FOLLOW === undefined) {
      // The answer may need no reading (or the open cannot refuse a symlink): the name itself first.
      const stat = await this.io.lstat(record.filename);
      const wrong = judgeStat(stat, record);
      if (wrong) return wrong;
      if (!options.hash || (options.trustMtime && record.mtimeMs === stat!.mtimeMs)) return { state: 'intact', ...factsOf(stat!), hashed: false };
    }
    let fd: number;
    try {
      fd = await this.io.open(record.filename, OPEN_FLAGS);
    } catch (error) {
      if (isAbsent(error)) return { state: 'missing' };
      // A symlink (ELOOP), a socket (ENXIO), no permission…: what stands there says which. A regular file of the
      // recorded size that cannot be read vouches for nothing: missing, as when a read fails.
      return judgeStat(await this.io.lstat(record.filename), record) ?? { state: 'missing' };
    }
    try {
      const stat = await this.io.fstat(fd);
      const wrong = judgeStat(stat, record);
      if (wrong) return wrong;
      const { sha256, bytesRead } = await sha256OfDescriptor(fd, stat.size, this.reads);
      // Cut while being read: the name no longer holds what fstat saw.
      if (bytesRead < stat.size) return { state: 'missing' };
      return { state: sha256 === record.sha256 ? 'intact' : 'hash-mismatch', ...factsOf(stat), sha256, hashed: true };
    } catch {
      // A read failed (the file's storage went away under it): nothing trustworthy stands at the name.
      return { state: 'missing' };
    } finally {
      try {
        await this.io.close(fd);
      } catch {
        // Read-only: nothing was left to write, and the answer stands.
      }
    }
  }
}

/** What is wrong with the entry at a recorded name, if anything a stat can tell: nothing there, not a regular file, another size. */
function judgeStat(stat: Stats | undefined, record: RecordedFile): FileCheck | undefined {
  if (!stat) return { state: 'missing' };
  if (!stat.isFile()) return { state: 'not-regular' };
  if (stat.size !== record.bytes) return { state: 'size-mismatch', ...factsOf(stat) };
  return undefined;
}

function factsOf(stat: Stats): Pick<FileCheck, 'bytes' | 'mtimeMs'> {
  return { bytes: stat.size, mtimeMs: stat.mtimeMs };
}

/** The checker behind {@link checkRecordedFile}: through the thread pool, for callers with other work under way. */
const sharedChecker = new RecordedFileChecker();

/**
 * Is the file the ledger recorded still what was saved? It must be a regular file (never a symlink,
 * which could point anywhere) with the recorded size; then its SHA-256 must be the recorded one, read
 * from the file unless `trustMtime` is on and the file's size and time are as recorded (a copied
 * archive has new times, so it is read once, and its new times recorded by the caller). A file deleted
 * before it is opened, or cut short while it is read, is `missing`.
 */
export async function checkRecordedFile(record: Pick<LedgerRecord, 'filename' | 'bytes' | 'sha256' | 'mtimeMs'>, options: CheckOptions): Promise<FileCheck> {
  return sharedChecker.check(record, options);
}

/** One line saying what is wrong with a recorded file, for `verify` and for a repair's message. */
export function describeCheck(check: FileCheck, record: Pick<LedgerRecord, 'bytes' | 'sha256'>): string {
  switch (check.state) {
    case 'intact':
      return 'intact';
    case 'missing':
      return 'missing';
    case 'not-regular':
      return 'not a regular file (a symbolic link or a directory stands at its name)';
    case 'size-mismatch':
      return `${check.bytes} bytes, ${record.bytes} recorded`;
    case 'hash-mismatch':
      return `sha256 ${check.sha256}, ${record.sha256} recorded`;
  }
}

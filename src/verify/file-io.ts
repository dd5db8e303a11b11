import * as fs from 'node:fs';

/**
 * The file calls a check makes, each answering at once (a blocking call) or later (through libuv's thread
 * pool). A seam: a test wraps one call to change the file under the check.
 */
export interface FileIo {
  /** The entry at `file` itself (a symbolic link is not followed); `undefined` when it cannot be had (nothing there, no access). */
  lstat(file: string): fs.Stats | undefined | Promise<fs.Stats | undefined>;
  /** Open for reading with `flags` (`O_RDONLY` and more): a descriptor, or the error (`ENOENT`, `ELOOP`…) thrown. */
  open(file: string, flags: number): number | Promise<number>;
  fstat(fd: number): fs.Stats | Promise<fs.Stats>;
  /** Read up to `length` bytes at `position` into `buffer` at `offset`: the count read, 0 at the end of the file. */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): number | Promise<number>;
  close(fd: number): void | Promise<void>;
}

/** Nothing stands at the path (or a folder on the way is a file). */
export function isAbsent(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Each call through the thread pool: for a process with other work to do (the downloader checks files while
 * transfers run). A round trip costs more than a warm 4 KiB read, so a sweep with nothing else to do uses
 * {@link blockingIo}.
 */
export const pooledIo: FileIo = {
  lstat: (file) => new Promise((resolve) => fs.lstat(file, (error, stats) => resolve(error ? undefined : stats))),
  open: (file, flags) => new Promise((resolve, reject) => fs.open(file, flags, (error, fd) => (error ? reject(error) : resolve(fd)))),
  fstat: (fd) => new Promise((resolve, reject) => fs.fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats)))),
  read: (fd, buffer, offset, length, position) =>
    new Promise((resolve, reject) => fs.read(fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)))),
  close: (fd) => new Promise((resolve, reject) => fs.close(fd, (error) => (error ? reject(error) : resolve()))),
};

/**
 * Each call made at once, blocking the event loop for its length: for `verify`, whose only work is these
 * calls. On a warm cache open, fstat, a 4 KiB read and close take about 30 µs together; the same through the
 * thread pool took twice that in CPU alone.
 */
export const blockingIo: FileIo = {
  lstat: (file) => {
    try {
      // No error object built for the usual absence.
      return fs.lstatSync(file, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  },
  open: (file, flags) => fs.openSync(file, flags),
  fstat: (fd) => fs.fstatSync(fd),
  read: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  close: (fd) => fs.closeSync(fd),
};

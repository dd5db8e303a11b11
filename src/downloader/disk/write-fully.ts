import { write, writev } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Write `buffers` at `position` of the open file `fd`, in one call where the kernel takes them all (a
 * short write, as on a nearly full disk, goes on with the rest), then call `done` once.
 */
export function writeFully(fd: number, buffers: readonly Buffer[], position: number, done: (error: NodeJS.ErrnoException | null) => void): void {
  const after = (error: NodeJS.ErrnoException | null, written: number): void => {
    if (error) return done(error);
    const rest = unwritten(buffers, written);
    if (rest.length === 0) return done(null);
    // A regular file that takes nothing and says no error would loop forever: call it what it is.
    if (written === 0) return done(Object.assign(new Error(`write of ${rest.length} buffers at ${position} took no bytes`), { code: 'EIO' }));
    writeFully(fd, rest, position + written, done);
  };
  if (buffers.length === 1) write(fd, buffers[0]!, 0, buffers[0]!.length, position, after);
  else writev(fd, buffers, position, after);
}

/**
 * {@link writeFully} as a promise: for a `FileHandle`, give its `fd` (the WARC writer's files). No copy of
 * the buffers into one.
 */
export const writeFullyAt: (fd: number, buffers: readonly Buffer[], position: number) => Promise<void> = promisify(writeFully);

/** What is left of `buffers` after their first `written` bytes. */
function unwritten(buffers: readonly Buffer[], written: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = written;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}

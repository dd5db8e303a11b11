import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { partPaths } from './part-file.js';
import type { PathReservations, Reservation } from './path-reservations.js';

/**
 * Give a verified `.part` its final name without ever replacing a file another
 * process put there meanwhile: `link()` fails with EEXIST instead of
 * overwriting, and we move on to the next free suffix. File systems without
 * hard links fall back to an exists-check plus `rename()`.
 * @returns the reservation the file now lives under (may differ from the one given)
 */
export async function finalizePart(partBase: string, reservation: Reservation, reservations: PathReservations): Promise<Reservation> {
  const { part, sidecar } = partPaths(partBase);
  let current = reservation;
  for (;;) {
    try {
      await fs.link(part, current.path);
      await fs.unlink(part);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        const next = await reservations.reserve(current.requested);
        current.release();
        current = next;
        continue;
      }
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV' && code !== 'ENOSYS') throw error;
      await fs.rename(part, current.path);
      break;
    }
  }
  await fs.rm(sidecar, { force: true });
  await syncDirectory(path.dirname(current.path));
  return current;
}

/** Make the new directory entry durable; not every platform can open a directory, which is fine. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows and some network file systems cannot fsync a directory.
  } finally {
    await handle?.close();
  }
}

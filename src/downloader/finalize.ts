import { promises as fs } from 'node:fs';
import { partPaths } from './part-file.js';
import type { PathReservations, Reservation } from './path-reservations.js';

/**
 * Give a verified `.part` its final name without ever replacing a file another
 * process put there meanwhile: `link()` fails with EEXIST instead of
 * overwriting, and we move on to the next free suffix. File systems without
 * hard links fall back to an exists-check plus `rename()`.
 * @returns the reservation the file now lives under (may differ from the one given)
 */
export async function finalizePart(
  partBase: string,
  reservation: Reservation,
  reservations: PathReservations,
  hasSidecar: boolean,
): Promise<Reservation> {
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
  if (hasSidecar) await fs.rm(sidecar, { force: true });
  // No directory fsync: the file's bytes are fsynced before the link, so a crash can lose the new name
  // (the next run fetches the file again) but never expose a name with wrong bytes; and a directory
  // fsync per file cost more than the transfer of a small one.
  return current;
}

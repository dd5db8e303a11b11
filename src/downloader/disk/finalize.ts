import { promises as fs } from 'node:fs';
import { partPaths } from './part-file.js';
import type { PathReservations, Reservation } from './path-reservations.js';

/** link() failures that mean "this file system has no hard links here", not "something is wrong". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS', 'EMLINK']);

/**
 * Asked of a file found at a taken name: whether it already holds the very bytes being placed. Then it is
 * this download's file, and no `name_1.ext` copy is made.
 */
export type SameBytes = (existing: string) => Promise<boolean>;

/**
 * Give a verified `.part` its final name without ever replacing a file another
 * process put there meanwhile: `link()` fails with EEXIST instead of
 * overwriting, and we move on to the next free suffix, unless `sameBytes` says
 * the file there holds these bytes already (the `.part` then goes). File
 * systems without hard links fall back to an exists-check plus `rename()`.
 * @returns the reservation the file now lives under (may differ from the one given), and whether it was there already
 */
export async function finalizePart(
  partBase: string,
  reservation: Reservation,
  reservations: PathReservations,
  hasSidecar: boolean,
  sameBytes?: SameBytes,
): Promise<{ reservation: Reservation; alreadyThere: boolean }> {
  const { part, sidecar } = partPaths(partBase);
  const { reservation: linkedAs, outcome } = await linkNoClobber(part, reservation, reservations, sameBytes);
  let current = linkedAs;
  let alreadyThere = outcome === 'already-there';
  if (outcome !== 'no-hard-links') await fs.unlink(part);
  else {
    // No hard links here: rename() would replace a file, so look first (a narrow race the link closes elsewhere).
    const absent = await firstAbsentVariant(current, reservations, sameBytes);
    current = absent.reservation;
    alreadyThere = absent.alreadyThere;
    if (alreadyThere) await fs.unlink(part);
    else await fs.rename(part, current.path);
  }
  if (hasSidecar) await fs.rm(sidecar, { force: true });
  // No directory fsync: the file's bytes are fsynced before the link, so a crash can lose the new name
  // (the next run fetches the file again) but never expose a name with wrong bytes; and a directory
  // fsync per file cost more than the transfer of a small one.
  return { reservation: current, alreadyThere };
}

/**
 * Put a verified `.part` in place of a damaged file (or whatever stands at `target`: a symlink is
 * replaced itself, never followed). `rename()` is atomic: the name holds the old bytes or the new,
 * never a mix.
 */
export async function replaceWithPart(partBase: string, target: string, hasSidecar: boolean): Promise<void> {
  const { part, sidecar } = partPaths(partBase);
  const stat = await fs.lstat(target).catch(() => undefined);
  // rename() cannot replace a directory with a file; a directory at a media file's name is removed only when empty.
  if (stat?.isDirectory()) await fs.rmdir(target);
  await fs.rename(part, target);
  if (hasSidecar) await fs.rm(sidecar, { force: true });
}

/** How {@link linkNoClobber} ended: linked, refused by a file system without hard links, or a file with the same bytes found at the name. */
export type LinkOutcome = 'linked' | 'no-hard-links' | 'already-there';

/**
 * Hard-link `source` under the reserved name, taking the next free suffix while
 * the name is taken by other bytes (`sameBytes` tells; without it, by any file).
 * Used for finalize and for deduplication.
 * @returns the reservation now held, and how it ended
 */
export async function linkNoClobber(
  source: string,
  reservation: Reservation,
  reservations: PathReservations,
  sameBytes?: SameBytes,
): Promise<{ reservation: Reservation; outcome: LinkOutcome }> {
  let current = reservation;
  for (;;) {
    try {
      await fs.link(source, current.path);
      return { reservation: current, outcome: 'linked' };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') {
        if (sameBytes && (await sameBytes(current.path))) return { reservation: current, outcome: 'already-there' };
        const next = reservations.reserve(current.requested, current.variant + 1);
        current.release();
        current = next;
        continue;
      }
      if (NO_HARD_LINKS.has(code)) return { reservation: current, outcome: 'no-hard-links' };
      throw error;
    }
  }
}

/**
 * The reservation itself when nothing stands at its path, else the next variant under which nothing does,
 * or the first whose file `sameBytes` says holds these bytes already.
 */
async function firstAbsentVariant(reservation: Reservation, reservations: PathReservations, sameBytes?: SameBytes): Promise<{ reservation: Reservation; alreadyThere: boolean }> {
  let current = reservation;
  while (
    await fs.lstat(current.path).then(
      () => true,
      () => false,
    )
  ) {
    if (sameBytes && (await sameBytes(current.path))) return { reservation: current, alreadyThere: true };
    const next = reservations.reserve(current.requested, current.variant + 1);
    current.release();
    current = next;
  }
  return { reservation: current, alreadyThere: false };
}
